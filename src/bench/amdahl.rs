//! Amdahl's law, speedup(n) = 1 / (s + (1 - s) / n): the least-squares serial fraction
//! s in [0, 1] for measured speedups, by a grid then a golden-section search.

/// The speedup on `n` cores of a program whose serial fraction is `s`.
pub fn predict(s: f64, n: f64) -> f64 {
    1.0 / (s + (1.0 - s) / n)
}

/// Sum of squared differences between measured and predicted speedups.
fn sse(points: &[(f64, f64)], s: f64) -> f64 {
    points
        .iter()
        .map(|&(n, speedup)| (speedup - predict(s, n)).powi(2))
        .sum()
}

/// Root mean square of measured minus fitted speedups.
pub fn rms_residual(points: &[(f64, f64)], s: f64) -> f64 {
    (sse(points, s) / points.len().max(1) as f64).sqrt()
}

/// The s in [0, 1] that minimises the squared error of `points` (jobs, speedup). None when
/// no point has more than one job, or a value is not finite: nothing to fit.
pub fn fit(points: &[(f64, f64)]) -> Option<f64> {
    let points: Vec<(f64, f64)> = points.iter().copied().filter(|&(n, _)| n > 1.0).collect();
    if points.is_empty() || points.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()) {
        return None;
    }
    // The error is smooth in s but need not be unimodal over the whole range: a grid finds
    // the basin, golden-section search refines within its two neighbouring steps.
    const STEPS: usize = 1000;
    let at = |i: usize| i as f64 / STEPS as f64;
    let best = (0..=STEPS)
        .min_by(|&a, &b| sse(&points, at(a)).total_cmp(&sse(&points, at(b))))
        .expect("a non-empty grid");
    let (mut lo, mut hi) = (at(best.saturating_sub(1)), at((best + 1).min(STEPS)));
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    while hi - lo > 1e-12 {
        let a = hi - ratio * (hi - lo);
        let b = lo + ratio * (hi - lo);
        if sse(&points, a) <= sse(&points, b) {
            hi = b;
        } else {
            lo = a;
        }
    }
    let s = (lo + hi) / 2.0;
    // The ends of the range are candidates too (a grid point can beat the interior).
    [s, 0.0, 1.0]
        .into_iter()
        .min_by(|&a, &b| sse(&points, a).total_cmp(&sse(&points, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(s: f64, jobs: &[f64]) -> Vec<(f64, f64)> {
        jobs.iter().map(|&n| (n, predict(s, n))).collect()
    }

    #[test]
    fn predictions() {
        assert_eq!(predict(0.0, 8.0), 8.0);
        assert_eq!(predict(1.0, 8.0), 1.0);
        assert!((predict(0.1, 2.0) - 1.0 / 0.55).abs() < 1e-12);
    }

    #[test]
    fn recovers_an_exact_serial_fraction() {
        for s in [0.1, 0.0, 0.35, 1.0] {
            let fitted = fit(&exact(s, &[1.0, 2.0, 4.0, 8.0])).unwrap();
            assert!((fitted - s).abs() < 1e-7, "s = {s}: fitted {fitted}");
        }
    }

    #[test]
    fn recovers_a_serial_fraction_from_noisy_speedups() {
        // s = 0.1 with up to ±3% error on each measured speedup.
        let noise = [1.0, 1.03, 0.97, 1.02, 0.98, 1.01];
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
            .iter()
            .zip(noise)
            .map(|(&n, e)| (n, predict(0.1, n) * e))
            .collect();
        let fitted = fit(&points).unwrap();
        assert!((fitted - 0.1).abs() < 0.01, "fitted {fitted}");
        assert!(rms_residual(&points, fitted) < 0.2);
    }

    #[test]
    fn superlinear_speedups_clamp_to_zero_and_one_count_fits_nothing() {
        assert_eq!(fit(&[(1.0, 1.0), (2.0, 2.4)]), Some(0.0));
        assert_eq!(fit(&[(1.0, 1.0), (4.0, 0.5)]), Some(1.0));
        assert_eq!(fit(&[(1.0, 1.0)]), None);
        assert_eq!(fit(&[(1.0, 1.0), (2.0, f64::NAN)]), None);
    }
}
