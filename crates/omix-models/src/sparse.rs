//! Sparse × dense products built from burn's differentiable gather and index-add.
//!
//! A graph's propagation matrix has a few nonzeros per row, so it is stored as coordinates
//! (COO: `rows`, `cols`, `values`). `Â · X` is then computed without any `N × N` tensor:
//!
//! 1. gather the rows of `X` named by `cols`: `X.select(0, cols)` → `[E, F]`;
//! 2. scale each gathered row by its value: `* values` (`[E, 1]`, broadcast) → `[E, F]`;
//! 3. add each scaled row into output row `rows[e]`:
//!    `zeros([N, F]).select_assign(0, rows, scaled, IndexingUpdateOp::Add)` → `[N, F]`.
//!
//! All three are ordinary burn ops with autodiff support (the backward of `select` is an
//! index-add, that of an index-add is a `select`), so gradients reach `X` (and the values, were
//! they parameters) without a hand-written backward; tested against dense products and
//! central finite differences.

use burn::prelude::*;
use burn::tensor::IndexingUpdateOp;

use crate::ModelError;

/// A sparse `[rows, columns]` matrix in coordinate form, on one device.
#[derive(Debug, Clone)]
pub struct SparseMatrix {
    rows: Tensor<1, Int>,
    cols: Tensor<1, Int>,
    values: Tensor<2>,
    shape: [usize; 2],
    nonzeros: usize,
}

impl SparseMatrix {
    /// A matrix from coordinate lists (`values[e]` at `(rows[e], cols[e])`); repeated
    /// coordinates add up. Errors when the lists differ in length or an index is out of range.
    pub fn from_coo(
        rows: &[usize],
        cols: &[usize],
        values: &[f32],
        shape: [usize; 2],
        device: &Device,
    ) -> Result<Self, ModelError> {
        check_coordinates(rows, cols, values.len(), shape)?;
        let values = Tensor::<2>::from_data(TensorData::new(values.to_vec(), [values.len(), 1]), device);
        Ok(Self::from_checked(rows, cols, values, shape))
    }

    /// Like [`SparseMatrix::from_coo`] with the values already a `[nonzeros]` tensor (any float
    /// dtype, e.g. `f64` for numerical checks).
    pub fn from_coo_tensor(
        rows: &[usize],
        cols: &[usize],
        values: Tensor<1>,
        shape: [usize; 2],
    ) -> Result<Self, ModelError> {
        let [count] = values.dims();
        check_coordinates(rows, cols, count, shape)?;
        Ok(Self::from_checked(rows, cols, values.reshape([count, 1]), shape))
    }

    fn from_checked(rows: &[usize], cols: &[usize], values: Tensor<2>, shape: [usize; 2]) -> Self {
        let device = values.device();
        let index = |list: &[usize]| {
            let data: Vec<i64> = list.iter().map(|&i| i as i64).collect();
            Tensor::<1, Int>::from_data(TensorData::new(data, [list.len()]), &device)
        };
        Self { rows: index(rows), cols: index(cols), values, shape, nonzeros: rows.len() }
    }

    /// `[rows, columns]`.
    pub fn shape(&self) -> [usize; 2] {
        self.shape
    }

    /// Number of stored coordinates.
    pub fn nonzeros(&self) -> usize {
        self.nonzeros
    }

    /// The device the matrix lives on.
    pub fn device(&self) -> Device {
        self.values.device()
    }

    /// The matrix as a dense `[rows, columns]` tensor (for models without a sparse path).
    pub fn to_dense(&self) -> Tensor<2> {
        let [rows, columns] = self.shape;
        let flat = self.rows.clone() * (columns as i64) + self.cols.clone(); // [E]
        let values = self.values.clone().reshape([self.nonzeros]); // [E]
        let zeros = Tensor::<1>::zeros([rows * columns], (&values.device(), values.dtype()));
        zeros.select_assign(0, flat, values, IndexingUpdateOp::Add).reshape([rows, columns])
    }

    /// The product `self · dense`.
    ///
    /// # Shapes
    /// - dense: `[columns, features]`
    /// - output: `[rows, features]`
    ///
    /// # Panics
    /// When `dense` does not have `columns` rows (a programming error: shapes come from the graph).
    pub fn matmul(&self, dense: Tensor<2>) -> Tensor<2> {
        let [inner, features] = dense.dims();
        assert_eq!(inner, self.shape[1], "sparse [{}, {}] · dense [{inner}, {features}]", self.shape[0], self.shape[1]);
        let gathered = dense.select(0, self.cols.clone()); // [E, F]
        let scaled = gathered * self.values.clone(); // [E, F] (values [E, 1] broadcast)
        let zeros = Tensor::<2>::zeros([self.shape[0], features], (&scaled.device(), scaled.dtype())); // [N, F]
        zeros.select_assign(0, self.rows.clone(), scaled, IndexingUpdateOp::Add) // [N, F]
    }
}

fn check_coordinates(rows: &[usize], cols: &[usize], values: usize, shape: [usize; 2]) -> Result<(), ModelError> {
    if rows.len() != cols.len() || rows.len() != values {
        return Err(ModelError::InvalidSetting {
            field: "sparse matrix".into(),
            value: format!("{} rows, {} columns, {values} values", rows.len(), cols.len()),
            reason: "the coordinate lists must have one entry per value",
        });
    }
    let bad = |list: &[usize], bound: usize| list.iter().position(|&i| i >= bound);
    if let Some(e) = bad(rows, shape[0]).or(bad(cols, shape[1])) {
        return Err(ModelError::InvalidSetting {
            field: format!("sparse matrix entry {e}"),
            value: format!("({}, {}) in a {}x{} matrix", rows[e], cols[e], shape[0], shape[1]),
            reason: "index out of range",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::DType;

    /// A small non-symmetric matrix with a repeated coordinate and an empty row.
    fn example() -> (Vec<usize>, Vec<usize>, Vec<f64>, [usize; 2]) {
        let rows = vec![0, 0, 1, 2, 2, 2, 0];
        let cols = vec![0, 2, 1, 0, 3, 3, 3];
        let values = vec![0.5, -1.25, 2.0, 0.75, 0.3, 0.2, 1.5];
        (rows, cols, values, [4, 4])
    }

    fn dense_of(rows: &[usize], cols: &[usize], values: &[f64], shape: [usize; 2]) -> Vec<f64> {
        let mut dense = vec![0.0; shape[0] * shape[1]];
        for ((&r, &c), &v) in rows.iter().zip(cols).zip(values) {
            dense[r * shape[1] + c] += v;
        }
        dense
    }

    fn f64_tensor<const D: usize>(values: Vec<f64>, shape: [usize; D], device: &Device) -> Tensor<D> {
        Tensor::from_data(TensorData::new(values, shape), (device, DType::F64))
    }

    fn to_vec(tensor: Tensor<2>) -> Vec<f64> {
        tensor.into_data().convert::<f64>().try_to_vec::<f64>().unwrap_or_default()
    }

    #[test]
    fn product_equals_dense_matmul() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let (rows, cols, values, shape) = example();
        let x: Vec<f64> = (0..12).map(|i| (i as f64 * 0.37).sin()).collect();
        let values32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let sparse = SparseMatrix::from_coo(&rows, &cols, &values32, shape, &device)?;
        let x32 = Tensor::<2>::from_data(TensorData::new(x.iter().map(|&v| v as f32).collect(), [4, 3]), &device);
        let dense = Tensor::<2>::from_data(
            TensorData::new(dense_of(&rows, &cols, &values, shape).iter().map(|&v| v as f32).collect(), [4, 4]),
            &device,
        );
        let expected = to_vec(dense.matmul(x32.clone()));
        let got = to_vec(sparse.matmul(x32));
        assert_eq!(got.len(), 12);
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-6, "{got:?} vs {expected:?}");
        }
        // The empty row 3 stays zero.
        assert!(got[9..].iter().all(|&v| v == 0.0));
        Ok(())
    }

    #[test]
    fn gradient_matches_central_finite_differences() -> Result<(), ModelError> {
        let (device, _lock) = crate::test_device();
        let device = device.autodiff();
        let plain = Device::flex();
        let (rows, cols, values, shape) = example();
        let x: Vec<f64> = (0..12).map(|i| (i as f64 * 0.61).cos()).collect();
        // A non-linear scalar loss so that every gradient entry differs: sum(tanh(Â·X) * C).
        let weights: Vec<f64> = (0..12).map(|i| 1.0 + 0.1 * i as f64).collect();
        let loss = |x: Tensor<2>, values: Tensor<1>, device: &Device| -> Result<Tensor<1>, ModelError> {
            let sparse = SparseMatrix::from_coo_tensor(&rows, &cols, values, shape)?;
            let c = f64_tensor(weights.clone(), [4, 3], device);
            Ok((sparse.matmul(x).tanh() * c).sum())
        };
        let x_param = f64_tensor(x.clone(), [4, 3], &device).require_grad();
        let v_param = f64_tensor(values.clone(), [7], &device).require_grad();
        let total = loss(x_param.clone(), v_param.clone(), &device)?;
        let grads = total.backward();
        let grad_x: Vec<f64> =
            x_param.grad(&grads).map(|g| g.into_data().try_to_vec::<f64>().unwrap_or_default()).unwrap_or_default();
        let grad_v: Vec<f64> =
            v_param.grad(&grads).map(|g| g.into_data().try_to_vec::<f64>().unwrap_or_default()).unwrap_or_default();
        assert_eq!((grad_x.len(), grad_v.len()), (12, 7));

        let evaluate = |x: &[f64], v: &[f64]| -> Result<f64, ModelError> {
            let value = loss(f64_tensor(x.to_vec(), [4, 3], &plain), f64_tensor(v.to_vec(), [7], &plain), &plain)?;
            Ok(value.into_scalar::<f64>())
        };
        let h = 1e-6;
        for i in 0..x.len() {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (evaluate(&up, &values)? - evaluate(&down, &values)?) / (2.0 * h);
            assert!((numeric - grad_x[i]).abs() < 1e-7, "d/dx[{i}]: autodiff {} vs numeric {numeric}", grad_x[i]);
        }
        for e in 0..values.len() {
            let (mut up, mut down) = (values.clone(), values.clone());
            up[e] += h;
            down[e] -= h;
            let numeric = (evaluate(&x, &up)? - evaluate(&x, &down)?) / (2.0 * h);
            assert!((numeric - grad_v[e]).abs() < 1e-7, "d/dvalue[{e}]: autodiff {} vs numeric {numeric}", grad_v[e]);
        }
        Ok(())
    }

    #[test]
    fn bad_coordinates_are_errors() {
        let (device, _lock) = crate::test_device();
        assert!(SparseMatrix::from_coo(&[0, 1], &[0], &[1.0, 1.0], [2, 2], &device).is_err());
        assert!(SparseMatrix::from_coo(&[0, 2], &[0, 1], &[1.0, 1.0], [2, 2], &device).is_err());
        assert!(SparseMatrix::from_coo(&[0, 1], &[0, 1], &[1.0, 1.0], [2, 2], &device).is_ok());
    }
}
