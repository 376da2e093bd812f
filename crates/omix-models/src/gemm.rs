//! Matrix products for the hand-written kernels: the gemm crate (the one burn's flex backend
//! already builds), behind a checked, safe interface.
//!
//! This is the one module of the workspace that calls code through `unsafe` (the workspace
//! denies it everywhere else). gemm's interface takes raw pointers and strides; [`product`]
//! checks first that every element each view addresses lies inside its slice, and that no two
//! elements of the destination share a cell, so nothing gemm is told to read or write lies
//! outside what the borrows give it. gemm's kernels are chosen at run time (AVX2/FMA here) and
//! run on the calling thread (`Parallelism::None`: the kernels call it from rayon's pool), about
//! 1.4× matrixmultiply's throughput on the convolution, dense and LSTM shapes of the shipped
//! models. faer's safe wrapper over the same kernels was tried first and rejected: on small row-
//! major products (e.g. 21 × 29 × 40) it wrote past the destination's slice.
//!
//! For a fixed shape and layout the additions run in a fixed order, so the same inputs give the
//! same bits on every call, whichever thread makes it.
#![allow(unsafe_code)]

/// Where a `rows × columns` matrix lies in a slice: element `(r, c)` at `offset + r·row_stride +
/// c·column_stride`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) offset: usize,
    pub(crate) rows: usize,
    pub(crate) columns: usize,
    pub(crate) row_stride: usize,
    pub(crate) column_stride: usize,
}

impl Layout {
    /// A row-major `rows × columns` matrix at the start of its slice.
    pub(crate) fn row_major(rows: usize, columns: usize) -> Self {
        Layout { offset: 0, rows, columns, row_stride: columns, column_stride: 1 }
    }

    /// The same cells read as the transposed matrix.
    pub(crate) fn transposed(self) -> Self {
        Layout {
            offset: self.offset,
            rows: self.columns,
            columns: self.rows,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
        }
    }

    /// One past the largest index the view addresses (`offset` when it is empty), or `None`
    /// when that overflows.
    fn end(&self) -> Option<usize> {
        if self.rows == 0 || self.columns == 0 {
            return Some(self.offset);
        }
        let last_row = (self.rows - 1).checked_mul(self.row_stride)?;
        let last_column = (self.columns - 1).checked_mul(self.column_stride)?;
        self.offset.checked_add(last_row)?.checked_add(last_column)?.checked_add(1)
    }

    /// Whether every element has a cell of its own: one stride steps through a row (or column)
    /// of cells and the other skips at least that far.
    fn distinct_cells(&self) -> bool {
        let (r, c) = (self.rows, self.columns);
        r <= 1 && (c <= 1 || self.column_stride >= 1)
            || c <= 1 && self.row_stride >= 1
            || self.column_stride >= 1 && self.row_stride >= c.saturating_mul(self.column_stride)
            || self.row_stride >= 1 && self.column_stride >= r.saturating_mul(self.row_stride)
    }

    /// The view's strides as gemm takes them.
    fn strides(&self) -> Option<(isize, isize)> {
        Some((isize::try_from(self.row_stride).ok()?, isize::try_from(self.column_stride).ok()?))
    }
}

/// Why [`product`] refused: the views do not fit their slices or each other (a bug of the
/// caller, which sizes every buffer from the model's shapes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayoutError(pub(crate) String);

impl std::error::Error for LayoutError {}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `c ← a · b`, or `c ← c + a · b` when `accumulate`; every matrix a view into its slice.
pub(crate) fn product(
    (a, la): (&[f32], Layout),
    (b, lb): (&[f32], Layout),
    (c, lc): (&mut [f32], Layout),
    accumulate: bool,
) -> Result<(), LayoutError> {
    if la.rows != lc.rows || la.columns != lb.rows || lb.columns != lc.columns {
        return Err(LayoutError(format!("matrices {la:?} · {lb:?} → {lc:?} do not match")));
    }
    for (name, layout, len) in [("left", la, a.len()), ("right", lb, b.len()), ("result", lc, c.len())] {
        if layout.end().is_none_or(|end| end > len) || layout.strides().is_none() {
            return Err(LayoutError(format!("the {name} matrix {layout:?} does not fit its {len} values")));
        }
    }
    if !lc.distinct_cells() {
        return Err(LayoutError(format!("the result matrix {lc:?} puts two elements in one cell")));
    }
    let (m, k, n) = (la.rows, la.columns, lb.columns);
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                for column in 0..n {
                    c[lc.offset + r * lc.row_stride + column * lc.column_stride] = 0.0;
                }
            }
        }
        return Ok(());
    }
    let ((ars, acs), (brs, bcs), (crs, ccs)) =
        (la.strides().unwrap_or_default(), lb.strides().unwrap_or_default(), lc.strides().unwrap_or_default());
    let (a, b) = (&a[la.offset..], &b[lb.offset..]);
    let c = &mut c[lc.offset..];
    // SAFETY: every element gemm reads, `offset + r·row_stride + col·column_stride` for r < rows
    // and col < columns, lies inside `a` and `b` (checked above through `end`), every element it
    // writes lies inside `c` and no two share a cell (`distinct_cells`), and `c` is borrowed
    // mutably, so it overlaps neither `a` nor `b`. The strides fit `isize` (`strides`).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            ccs,
            crs,
            accumulate,
            a.as_ptr(),
            acs,
            ars,
            b.as_ptr(),
            bcs,
            brs,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random shapes, transposes and padded strides against the triple loop, with guard values
    /// around and between the result's cells that must stay untouched.
    #[test]
    fn products_equal_the_triple_loop_and_write_inside_their_views() {
        let mut state = 0x5eed_u64;
        let mut next = |bound: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % bound
        };
        for round in 0..3000 {
            let (m, k, n) = (1 + next(40), next(40), 1 + next(40));
            let pad = next(4);
            let (ta, tb, tc, accumulate) = (next(2) == 1, next(2) == 1, next(2) == 1, round % 2 == 1);
            // The operands sit at an offset with padded rows, NaN everywhere outside their views:
            // a product that used a value it was not given would show it.
            let mut operand = |rows: usize, columns: usize, transpose: bool, spread: usize| {
                let (stored_rows, stored_columns) = if transpose { (columns, rows) } else { (rows, columns) };
                let (offset, stride) = (next(3), stored_columns + next(3));
                let mut values = vec![f32::NAN; offset + stored_rows * stride + next(3)];
                for r in 0..stored_rows {
                    for c in 0..stored_columns {
                        values[offset + r * stride + c] = next(spread) as f32 - (spread / 2) as f32;
                    }
                }
                let stored =
                    Layout { offset, rows: stored_rows, columns: stored_columns, row_stride: stride, column_stride: 1 };
                (values, if transpose { stored.transposed() } else { stored })
            };
            let (a, la) = operand(m, k, ta, 19);
            let (b, lb) = operand(k, n, tb, 17);
            let offset = next(3);
            let lc = if tc {
                Layout { offset, rows: m, columns: n, row_stride: 1, column_stride: m + pad }
            } else {
                Layout { offset, rows: m, columns: n, row_stride: n + pad, column_stride: 1 }
            };
            let guard = -1234.5f32;
            let end = lc.end().expect("small");
            let mut c = vec![guard; end + 8];
            let start = |r: usize, col: usize| lc.offset + r * lc.row_stride + col * lc.column_stride;
            for r in 0..m {
                for col in 0..n {
                    // Without `accumulate` the result is not read: NaN there must not show.
                    c[start(r, col)] = if accumulate { (r + col) as f32 } else { f32::NAN };
                }
            }
            let before = c.clone();
            product((&a, la), (&b, lb), (&mut c, lc), accumulate).expect("views fit");
            let mut inside = vec![false; c.len()];
            for r in 0..m {
                for col in 0..n {
                    let mut sum = if accumulate { before[start(r, col)] } else { 0.0 };
                    for l in 0..k {
                        sum += a[la.offset + r * la.row_stride + l * la.column_stride]
                            * b[lb.offset + l * lb.row_stride + col * lb.column_stride];
                    }
                    assert_eq!(c[start(r, col)], sum, "({r}, {col}) of {m}×{k}×{n}");
                    inside[start(r, col)] = true;
                }
            }
            for (i, value) in c.iter().enumerate() {
                assert!(inside[i] || *value == guard, "cell {i} outside {lc:?} written ({m}×{k}×{n})");
            }
        }
    }

    #[test]
    fn views_outside_their_slices_or_sharing_cells_are_refused() {
        let (a, b) = (vec![1.0f32; 12], vec![1.0f32; 12]);
        let mut c = vec![0.0f32; 9];
        let fits = (Layout::row_major(3, 4), Layout::row_major(4, 3), Layout::row_major(3, 3));
        assert!(product((&a, fits.0), (&b, fits.1), (&mut c, fits.2), false).is_ok());
        assert_eq!(c, vec![4.0; 9]);
        let long = Layout { offset: 1, ..fits.0 };
        assert!(product((&a, long), (&b, fits.1), (&mut c, fits.2), false).is_err());
        let shared = Layout { row_stride: 2, ..fits.2 };
        assert!(product((&a, fits.0), (&b, fits.1), (&mut c, shared), false).is_err());
        assert!(product((&a, fits.0), (&b, Layout::row_major(3, 3)), (&mut c, fits.2), false).is_err());
        let mut short = vec![0.0f32; 8];
        assert!(product((&a, fits.0), (&b, fits.1), (&mut short, fits.2), false).is_err());
    }
}
