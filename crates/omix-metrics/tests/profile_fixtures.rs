//! Compares the profile metrics with the scipy / bpnet-lite values stored in
//! `tests/fixtures/profile/*.json` (written by `tests/fixtures/make_profile_fixtures.py`).

use std::error::Error;
use std::path::Path;

use omix_metrics::{ProfileLayout, ProfileMetrics, jensen_shannon_distance, multinomial_nll, profile_pearson};
use serde_json::Value;

type TestResult<T = ()> = Result<T, Box<dyn Error>>;

/// Agreement required: 1e-9, relative for values above 1e-3 in magnitude (the task asks 1e-6).
fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * want.abs().max(1e-3)
}

fn check_f64(failures: &mut Vec<String>, what: &str, got: f64, want: f64) {
    if !close(got, want) {
        failures.push(format!("{what}: got {got:?}, reference {want:?}"));
    }
}

fn check_opt(failures: &mut Vec<String>, what: &str, got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (Some(g), Some(w)) => check_f64(failures, what, g, w),
        (None, None) => {}
        _ => failures.push(format!("{what}: got {got:?}, reference {want:?}")),
    }
}

fn field<T: for<'de> serde::Deserialize<'de>>(fixture: &Value, key: &str) -> TestResult<T> {
    let v = fixture.get(key).ok_or_else(|| format!("fixture has no `{key}`"))?;
    Ok(T::deserialize(v)?)
}

/// Fixture inputs are float32 values written as the float64 they equal, so this cast is exact.
fn f32_field(fixture: &Value, key: &str) -> TestResult<Vec<f32>> {
    let values: Vec<f64> = field(fixture, key)?;
    Ok(values.into_iter().map(|v| v as f32).collect())
}

fn fixtures() -> TestResult<Vec<Value>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profile");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 4, "expected at least 4 profile fixtures, found {}", paths.len());
    paths.iter().map(|p| Ok(serde_json::from_str(&std::fs::read_to_string(p)?)?)).collect()
}

#[test]
fn profile_metrics_match_chrombpnet_scipy_and_bpnet_lite() -> TestResult {
    let mut failures = Vec::new();
    let mut strand_counts = Vec::new();
    for fx in fixtures()? {
        let name: String = field(&fx, "name")?;
        let layout: ProfileLayout = field(&fx, "layout")?;
        let got = ProfileMetrics::compute(
            &f32_field(&fx, "observed_counts")?,
            &f32_field(&fx, "predicted_logits")?,
            &f32_field(&fx, "predicted_log_counts")?,
            layout,
        )?;
        let want: ProfileMetrics = field(&fx, "expected")?;
        strand_counts.push(layout.strands);

        let optional = [
            ("median_jsd", got.median_jsd, want.median_jsd),
            ("mean_jsd", got.mean_jsd, want.mean_jsd),
            ("median_profile_pearson", got.median_profile_pearson, want.median_profile_pearson),
            ("mean_profile_pearson", got.mean_profile_pearson, want.mean_profile_pearson),
            ("count_pearson", got.count_pearson, want.count_pearson),
            ("count_spearman", got.count_spearman, want.count_spearman),
        ];
        for (key, g, w) in optional {
            check_opt(&mut failures, &format!("{name}.{key}"), g, w);
        }
        check_f64(&mut failures, &format!("{name}.count_mse"), got.count_mse, want.count_mse);
        check_f64(
            &mut failures,
            &format!("{name}.mean_multinomial_nll"),
            got.mean_multinomial_nll,
            want.mean_multinomial_nll,
        );
        let counts = |m: &ProfileMetrics| (m.regions, m.profiles, m.zero_profiles_skipped, m.profiles_without_pearson);
        assert_eq!(counts(&got), counts(&want), "{name}: (regions, profiles, zero profiles, without Pearson)");
    }
    assert!(failures.is_empty(), "{} values differ from the reference:\n{}", failures.len(), failures.join("\n"));
    assert!(strand_counts.contains(&1) && strand_counts.contains(&2), "fixtures must cover 1 and 2 strands");
    Ok(())
}

#[test]
fn one_profile_functions_match_scipy_and_bpnet_lite() -> TestResult {
    let mut failures = Vec::new();
    let mut checked = (0, 0);
    for fx in fixtures()? {
        let name: String = field(&fx, "name")?;
        let layout: ProfileLayout = field(&fx, "layout")?;
        let observed = f32_field(&fx, "observed_counts")?;
        let logits = f32_field(&fx, "predicted_logits")?;
        let probabilities = f32_field(&fx, "probabilities_f32")?;
        let jsd: Vec<Option<f64>> = field(&fx, "jsd_of_f32_probabilities")?;
        let pearson: Vec<Option<f64>> = field(&fx, "pearson_of_f32_probabilities")?;
        let nll: Vec<f64> = field(&fx, "multinomial_nll")?;

        let profiles = observed.chunks_exact(layout.length).zip(probabilities.chunks_exact(layout.length));
        for (i, (o, p)) in profiles.enumerate() {
            check_opt(&mut failures, &format!("{name}.jsd[{i}]"), jensen_shannon_distance(o, p), jsd[i]);
            check_opt(&mut failures, &format!("{name}.profile_pearson[{i}]"), profile_pearson(o, p), pearson[i]);
            checked.0 += 1;
        }
        let width = layout.region_values();
        for (r, (o, l)) in observed.chunks_exact(width).zip(logits.chunks_exact(width)).enumerate() {
            check_f64(&mut failures, &format!("{name}.multinomial_nll[{r}]"), multinomial_nll(o, l)?, nll[r]);
            checked.1 += 1;
        }
    }
    assert!(failures.is_empty(), "{} values differ from the reference:\n{}", failures.len(), failures.join("\n"));
    assert!(checked.0 >= 30 && checked.1 >= 20, "only {checked:?} profiles and regions checked");
    Ok(())
}
