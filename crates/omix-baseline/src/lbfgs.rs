//! Limited-memory BFGS with a strong-Wolfe line search (Nocedal & Wright, algorithms 7.4, 3.5, 3.6).

use std::collections::VecDeque;

/// Sufficient-decrease (Armijo) constant.
const C1: f64 = 1e-4;
/// Curvature constant; 0.9 is the usual choice for quasi-Newton directions.
const C2: f64 = 0.9;
/// Objective evaluations allowed while bracketing, and again while zooming.
const MAX_BRACKET: usize = 25;
const MAX_ZOOM: usize = 30;
/// Relative reduction of the objective below which progress has stalled at machine precision
/// (scipy's `factr = 64` that scikit-learn's lbfgs solver uses: 64 * 2^-52).
const STALL: f64 = 64.0 * f64::EPSILON;

/// Settings of one minimisation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Iterations (accepted steps) allowed.
    pub max_iter: usize,
    /// Converged when the largest absolute gradient component is at most this.
    pub tolerance: f64,
    /// Number of (s, y) pairs kept.
    pub memory: usize,
}

/// Where a minimisation ended.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub x: Vec<f64>,
    pub value: f64,
    pub gradient_max: f64,
    pub iterations: usize,
    /// The gradient test passed, or the objective stopped decreasing at machine precision.
    pub converged: bool,
}

/// One evaluated point on the search line.
struct Point {
    step: f64,
    value: f64,
    slope: f64,
    x: Vec<f64>,
    gradient: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Minimises `objective(x, gradient) -> value` from `x`.
pub(crate) fn minimise(
    mut x: Vec<f64>,
    settings: &Settings,
    mut objective: impl FnMut(&[f64], &mut [f64]) -> f64,
) -> Outcome {
    let mut gradient = vec![0.0; x.len()];
    let mut value = objective(&x, &mut gradient);
    let mut history: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(settings.memory);
    let mut iterations = 0;
    let mut converged = max_abs(&gradient) <= settings.tolerance;
    while !converged && iterations < settings.max_iter && value.is_finite() {
        let mut direction = two_loop(&gradient, &history);
        if dot(&gradient, &direction) >= 0.0 {
            // Not a descent direction (lost curvature information): restart from steepest descent.
            history.clear();
            direction = gradient.iter().map(|g| -g).collect();
        }
        let first_step = if history.is_empty() { (1.0 / dot(&direction, &direction).sqrt()).min(1.0) } else { 1.0 };
        let Some(point) = line_search(&x, value, &gradient, &direction, first_step, &mut objective) else {
            if history.is_empty() {
                break; // even steepest descent cannot decrease the objective: precision exhausted
            }
            history.clear();
            continue;
        };
        iterations += 1;
        let s: Vec<f64> = point.x.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = point.gradient.iter().zip(&gradient).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > f64::EPSILON * dot(&y, &y) {
            if history.len() == settings.memory {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
        let reduction = value - point.value;
        let stalled = reduction <= STALL * value.abs().max(point.value.abs()).max(1.0);
        x = point.x;
        gradient = point.gradient;
        value = point.value;
        converged = max_abs(&gradient) <= settings.tolerance || stalled;
    }
    Outcome { gradient_max: max_abs(&gradient), x, value, iterations, converged }
}

/// The L-BFGS direction `-H g` from the stored pairs (oldest first).
fn two_loop(gradient: &[f64], history: &VecDeque<(Vec<f64>, Vec<f64>, f64)>) -> Vec<f64> {
    let mut q = gradient.to_vec();
    let mut alphas = vec![0.0; history.len()];
    for (alpha, (s, y, rho)) in alphas.iter_mut().zip(history).rev() {
        *alpha = rho * dot(s, &q);
        q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= *alpha * yi);
    }
    let gamma = history.back().map_or(1.0, |(s, y, _)| dot(s, y) / dot(y, y));
    q.iter_mut().for_each(|v| *v *= gamma);
    for (alpha, (s, y, rho)) in alphas.iter().zip(history) {
        let beta = rho * dot(y, &q);
        q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (alpha - beta) * si);
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

/// A step along `direction` satisfying the strong Wolfe conditions, or failing that the best
/// step found with sufficient decrease; `None` when no step decreases the objective.
fn line_search(
    x: &[f64],
    value: f64,
    gradient: &[f64],
    direction: &[f64],
    first_step: f64,
    objective: &mut impl FnMut(&[f64], &mut [f64]) -> f64,
) -> Option<Point> {
    let slope0 = dot(gradient, direction);
    let mut evaluate = |step: f64| -> Point {
        let trial: Vec<f64> = x.iter().zip(direction).map(|(xi, di)| xi + step * di).collect();
        let mut g = vec![0.0; x.len()];
        let v = objective(&trial, &mut g);
        Point { step, value: v, slope: dot(&g, direction), x: trial, gradient: g }
    };
    let armijo = |p: &Point| p.value.is_finite() && p.value <= value + C1 * p.step * slope0;
    let wolfe = |p: &Point| p.slope.abs() <= -C2 * slope0;

    let mut previous = Point { step: 0.0, value, slope: slope0, x: Vec::new(), gradient: Vec::new() };
    let mut step = first_step;
    for i in 0..MAX_BRACKET {
        let current = evaluate(step);
        if !armijo(&current) || (i > 0 && current.value >= previous.value) {
            return zoom(previous, current, value, slope0, &mut evaluate);
        }
        if wolfe(&current) {
            return Some(current);
        }
        if current.slope >= 0.0 {
            return zoom(current, previous, value, slope0, &mut evaluate);
        }
        previous = current;
        step *= 4.0;
    }
    (previous.step > 0.0).then_some(previous)
}

/// Narrows the bracket `[lo, hi]` (lo satisfies sufficient decrease with the lower value).
fn zoom(
    mut lo: Point,
    mut hi: Point,
    value0: f64,
    slope0: f64,
    evaluate: &mut impl FnMut(f64) -> Point,
) -> Option<Point> {
    for _ in 0..MAX_ZOOM {
        let width = (hi.step - lo.step).abs();
        if width <= 1e-14 * lo.step.abs().max(hi.step.abs()) {
            break;
        }
        let step = interpolate(&lo, &hi);
        let current = evaluate(step);
        let sufficient = current.value.is_finite() && current.value <= value0 + C1 * step * slope0;
        if !sufficient || current.value >= lo.value {
            hi = current;
        } else {
            if current.slope.abs() <= -C2 * slope0 {
                return Some(current);
            }
            if current.slope * (hi.step - lo.step) >= 0.0 {
                hi = std::mem::replace(&mut lo, current);
            } else {
                lo = current;
            }
        }
    }
    (lo.step > 0.0 && lo.value < value0).then_some(lo)
}

/// Minimiser of the cubic through both end points (values and slopes), kept at least a tenth
/// of the bracket away from either end; bisection when the cubic is unusable.
fn interpolate(lo: &Point, hi: &Point) -> f64 {
    let (a, b) = (lo.step, hi.step);
    let bisect = 0.5 * (a + b);
    if !hi.value.is_finite() || !hi.slope.is_finite() {
        return bisect;
    }
    let d1 = lo.slope + hi.slope - 3.0 * (lo.value - hi.value) / (a - b);
    let radicand = d1 * d1 - lo.slope * hi.slope;
    if radicand < 0.0 {
        return bisect;
    }
    let d2 = (b - a).signum() * radicand.sqrt();
    let step = b - (b - a) * (hi.slope + d2 - d1) / (hi.slope - lo.slope + 2.0 * d2);
    let (low, high) = (a.min(b), a.max(b));
    let margin = 0.1 * (high - low);
    if step.is_finite() && step >= low + margin && step <= high - margin { step } else { bisect }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_the_rosenbrock_function() {
        let settings = Settings { max_iter: 500, tolerance: 1e-10, memory: 10 };
        let outcome = minimise(vec![-1.2, 1.0], &settings, |x, g| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        });
        assert!(outcome.converged, "{outcome:?}");
        assert!((outcome.x[0] - 1.0).abs() < 1e-6 && (outcome.x[1] - 1.0).abs() < 1e-6, "{outcome:?}");
        assert!(outcome.iterations < 100);
    }

    #[test]
    fn minimises_an_ill_conditioned_quadratic() {
        // Condition number 10^4 (scipy's L-BFGS-B takes about 500 iterations here).
        let scales: Vec<f64> = (0..50).map(|i| 10f64.powf(f64::from(i) / 12.25)).collect();
        let settings = Settings { max_iter: 2000, tolerance: 1e-9, memory: 10 };
        let outcome = minimise(vec![1.0; 50], &settings, |x, g| {
            let mut f = 0.0;
            for ((xi, gi), s) in x.iter().zip(g.iter_mut()).zip(&scales) {
                *gi = s * (xi - 3.0);
                f += 0.5 * s * (xi - 3.0).powi(2);
            }
            f
        });
        assert!(outcome.converged, "{outcome:?}");
        // The stall test (relative reduction below 64 eps) ends it near f = 1e-14.
        assert!(outcome.x.iter().all(|v| (v - 3.0).abs() < 1e-6), "{outcome:?}");
    }
}
