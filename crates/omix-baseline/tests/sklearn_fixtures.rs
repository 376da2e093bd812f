//! Compares the baselines with the scikit-learn values stored in `tests/fixtures/*.json`
//! (written by `tests/fixtures/make_fixtures.py`).
//!
//! Tolerances: logistic regression coefficients, intercepts and probabilities 1e-5, relative
//! above 1 (scikit-learn stops on its own criteria, so its answer is only good to about 1e-7);
//! PCA explained variances 1e-6 relative, components 1e-5 up to sign; k-NN predictions exact.

use std::error::Error;
use std::path::{Path, PathBuf};

use omix_baseline::{Design, Examples, LogisticConfig, Metric, Pca, Targets, knn_accuracy_with_folds};
use serde::Deserialize;
use serde_json::Value;

type TestResult<T = ()> = Result<T, Box<dyn Error>>;

fn field<T: for<'de> Deserialize<'de>>(fixture: &Value, key: &str) -> TestResult<T> {
    let v = fixture.get(key).ok_or_else(|| format!("fixture has no `{key}`"))?;
    Ok(T::deserialize(v)?)
}

fn fixtures(prefix: &str) -> TestResult<Vec<Value>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    paths.sort();
    paths.iter().map(|p| Ok(serde_json::from_str(&std::fs::read_to_string(p)?)?)).collect()
}

/// Largest `|got - want| / max(1, |want|)`.
fn max_error(got: &[f64], want: &[f64]) -> TestResult<f64> {
    if got.len() != want.len() {
        return Err(format!("lengths differ: {} vs {}", got.len(), want.len()).into());
    }
    Ok(got.iter().zip(want).fold(0.0, |m, (g, w)| m.max((g - w).abs() / w.abs().max(1.0))))
}

/// A design read from a fixture: dense (`values`, `width`) or CSR.
struct OwnedDesign {
    values: Vec<f32>,
    width: usize,
    csr: Option<(Vec<usize>, Vec<u32>)>,
}

impl OwnedDesign {
    fn read(v: &Value) -> TestResult<Self> {
        let values: Vec<f32> = field(v, "values")?;
        let width = field(v, "width")?;
        let csr = match v.get("row_offsets") {
            Some(_) => Some((field(v, "row_offsets")?, field(v, "indices")?)),
            None => None,
        };
        Ok(OwnedDesign { values, width, csr })
    }

    fn design(&self) -> Design<'_> {
        match &self.csr {
            Some((row_offsets, indices)) => {
                Design::Sparse { row_offsets, indices, values: &self.values, width: self.width }
            }
            None => Design::Dense { values: &self.values, width: self.width },
        }
    }
}

#[test]
fn logistic_regression_matches_sklearn() -> TestResult {
    let all = fixtures("logistic_")?;
    assert!(all.len() >= 5, "expected 5 logistic fixtures, found {}", all.len());
    let mut kinds = std::collections::BTreeSet::new();
    for fx in &all {
        let name: String = field(fx, "name")?;
        let kind: String = field(fx, "target_kind")?;
        let c: f64 = field(fx, "c")?;
        let labels: Vec<usize> = field(fx, "labels")?;
        let weights: Option<Vec<f64>> = field(fx, "weights")?;
        let train = OwnedDesign::read(&fx["train"])?;
        let test = OwnedDesign::read(&fx["test"])?;
        let binary: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
        let targets = match kind.as_str() {
            "binary" => Targets::Binary(&binary),
            "multinomial" => Targets::Multinomial { labels: &labels, classes: field(fx, "classes")? },
            other => return Err(format!("{name}: unknown target kind {other}").into()),
        };
        let mut examples = Examples::new(train.design(), targets);
        if let Some(w) = &weights {
            examples = examples.with_weights(w);
        }
        let config = LogisticConfig { c, tolerance: 1e-10, max_iter: 10_000, ..LogisticConfig::default() };
        let model = config.fit(&examples)?;
        assert!(model.converged(), "{name}: {:?}", model.solver);

        let expected = &fx["expected"];
        let errors = [
            ("coefficients", max_error(&model.coefficients, &field::<Vec<f64>>(expected, "coefficients")?)?),
            ("intercepts", max_error(&model.intercepts, &field::<Vec<f64>>(expected, "intercepts")?)?),
            (
                "train probabilities",
                max_error(
                    &model.predict_proba(&train.design())?,
                    &field::<Vec<f64>>(expected, "train_probabilities")?,
                )?,
            ),
            (
                "test probabilities",
                max_error(&model.predict_proba(&test.design())?, &field::<Vec<f64>>(expected, "test_probabilities")?)?,
            ),
        ];
        eprintln!("{name}: {} iterations; max errors {errors:?}", model.solver[0].iterations);
        for (what, error) in errors {
            assert!(error <= 1e-5, "{name}: {what} differ from sklearn by {error:e}");
        }
        kinds.insert((kind, train.csr.is_some()));
    }
    assert_eq!(kinds.len(), 4, "dense and sparse, binary and multinomial: {kinds:?}");
    Ok(())
}

#[test]
fn pca_matches_sklearn() -> TestResult {
    let all = fixtures("pca_")?;
    assert!(all.len() >= 2, "expected 2 PCA fixtures, found {}", all.len());
    for fx in &all {
        let name: String = field(fx, "name")?;
        let values: Vec<f32> = field(fx, "values")?;
        let width: usize = field(fx, "width")?;
        let rows: Vec<usize> = field(fx, "rows")?;
        let k: usize = field(fx, "k")?;
        let expected = &fx["expected"];
        let pca = Pca::fit(&values, width, &rows, k)?;

        let relative = |got: &[f64], want: &[f64]| -> f64 {
            got.iter().zip(want).fold(0.0, |m, (g, w)| m.max((g - w).abs() / w.abs()))
        };
        let variance_error = relative(&pca.explained_variance, &field::<Vec<f64>>(expected, "explained_variance")?);
        let ratio_error =
            relative(&pca.explained_variance_ratio, &field::<Vec<f64>>(expected, "explained_variance_ratio")?);
        let mean_error = max_error(&pca.mean, &field::<Vec<f64>>(expected, "mean")?)?;
        // Components up to sign: align each with sklearn's by the sign of their dot product.
        let want_components: Vec<f64> = field(expected, "components")?;
        let mut signs = Vec::new();
        let mut component_error = 0.0f64;
        for (got, want) in pca.components.chunks_exact(width).zip(want_components.chunks_exact(width)) {
            let sign = got.iter().zip(want).map(|(a, b)| a * b).sum::<f64>().signum();
            signs.push(sign);
            component_error = got.iter().zip(want).fold(component_error, |m, (a, b)| m.max((sign * a - b).abs()));
        }
        let transformed: Vec<f64> = pca.transform_rows(&values)?.iter().map(|&v| f64::from(v)).collect();
        let want_transformed: Vec<f64> = field(expected, "transformed")?;
        let mut transform_error = 0.0f64;
        for (got, want) in transformed.chunks_exact(k).zip(want_transformed.chunks_exact(k)) {
            for ((g, w), s) in got.iter().zip(want).zip(&signs) {
                transform_error = transform_error.max((s * g - w).abs() / w.abs().max(1.0));
            }
        }
        eprintln!(
            "{name}: variance {variance_error:e}, ratio {ratio_error:e}, components {component_error:e}, \
             mean {mean_error:e}, transform {transform_error:e}"
        );
        assert!(variance_error <= 1e-6, "{name}: explained variance off by {variance_error:e}");
        assert!(ratio_error <= 1e-6, "{name}: explained variance ratio off by {ratio_error:e}");
        assert!(component_error <= 1e-5, "{name}: components off by {component_error:e}");
        assert!(mean_error <= 1e-9, "{name}: mean off by {mean_error:e}");
        // The transform is returned as f32.
        assert!(transform_error <= 1e-5, "{name}: transform off by {transform_error:e}");
    }
    Ok(())
}

#[test]
fn knn_matches_sklearn_on_fixed_folds() -> TestResult {
    let all = fixtures("knn_")?;
    assert!(!all.is_empty(), "no k-NN fixture");
    let mut tied_votes = 0;
    for fx in &all {
        let name: String = field(fx, "name")?;
        let points: Vec<f32> = field(fx, "points")?;
        let dim: usize = field(fx, "dim")?;
        let labels: Vec<usize> = field(fx, "labels")?;
        let fold_of: Vec<usize> = field(fx, "fold_of")?;
        let cases: Vec<Value> = field(fx, "cases")?;
        for case in &cases {
            let k: usize = field(case, "k")?;
            let metric = match field::<String>(case, "metric")?.as_str() {
                "euclidean" => Metric::Euclidean,
                "cosine" => Metric::Cosine,
                other => return Err(format!("{name}: unknown metric {other}").into()),
            };
            let what = format!("{name} {metric:?} k={k}");
            let report = knn_accuracy_with_folds(&points, dim, &labels, k, &fold_of, metric)?;
            let want: Vec<usize> = field(case, "predictions")?;
            let sklearn: Vec<usize> = field(case, "sklearn_predictions")?;
            let tied: Vec<bool> = field(case, "vote_tied")?;
            assert_eq!(report.predictions, want, "{what}: predictions");
            for (i, ((got, sk), &t)) in report.predictions.iter().zip(&sklearn).zip(&tied).enumerate() {
                if t {
                    tied_votes += 1;
                } else {
                    assert_eq!(got, sk, "{what}: example {i} (untied vote) differs from sklearn's predict");
                }
            }
            assert!((report.accuracy - field::<f64>(case, "accuracy")?).abs() < 1e-12, "{what}: accuracy");
            let per_fold: Vec<f64> = field(case, "per_fold")?;
            assert!(max_error(&report.per_fold, &per_fold)? < 1e-12, "{what}: per-fold accuracy");
            assert_eq!(report.folds, per_fold.len());
        }
    }
    assert!(tied_votes > 0, "the fixture should exercise the tie rule");
    Ok(())
}
