//! Compositional normalisation of shares.
//!
//! Shares sum to one: when one function does more work, every other function's share shrinks
//! although it did the same work (measured: pyperformance `go`, one function +5.5 points, two
//! untouched ones -2.1 points each). Comparing raw shares therefore calls untouched functions
//! improved on a slow-down and - worse for a gate - regressed on a speed-up elsewhere.
//!
//! The fix is to express every run's shares in units of the *baseline's* total work. Per run
//! `r` (both sides) a scale factor `k_r` says how much larger or smaller the run's total is
//! than the baseline's, estimated from functions that did not change; `s_fr / k_r` is then
//! function `f`'s cost as a fraction of the baseline's total, and the difference of means is
//! the change in that function's own cost.
//!
//! Estimator (two steps, see `docs/statistics.md`):
//! 1. reference functions R: baseline mean self share >= [`REFERENCE_MIN_SHARE`]. A robust
//!    side-level scale `K0 = median_{f in R}(candidate mean_f / baseline mean_f)` (the median
//!    tolerates up to half of the reference functions changing).
//! 2. stable set U: reference functions whose candidate mean, rescaled by `K0`, is within
//!    `stable_tolerance` of the baseline mean or within [`CHANGE_SE_MULTIPLE`] standard errors
//!    of it (noisy is not changed). Per run, `k_r = sum_{f in U} s_fr / sum_{f in U}
//!    m_f` - a ratio of sums over many samples, far less noisy than a per-run median of
//!    ratios of small shares (which would add the noise of one small function to every
//!    big function's share).
//!
//! When U covers too little of the baseline (< [`MIN_STABLE_MASS`]) the per-run median of
//! ratios over R is used; with fewer than [`MIN_REFERENCE_FUNCTIONS`] reference functions no
//! normalisation is possible and `k = 1` (raw shares) with a warning.

use super::stats::median;

/// Baseline mean self share a function needs to serve as a reference for the scale.
pub const REFERENCE_MIN_SHARE: f64 = 0.005;
/// Fewer reference functions than this: no normalisation (k = 1).
pub const MIN_REFERENCE_FUNCTIONS: usize = 3;
/// A reference function counts as changed when its difference exceeds this many standard
/// errors (and the tolerance).
pub const CHANGE_SE_MULTIPLE: f64 = 3.0;
/// The stable set must hold at least this much of the baseline's self samples.
pub const MIN_STABLE_MASS: f64 = 0.2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Ratio of sums over the stable set.
    StableSum,
    /// Per-run median of share ratios over the reference functions.
    MedianRatio,
    /// No normalisation (too few reference functions).
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Normalisation {
    pub method: Method,
    /// One factor per baseline run / candidate run.
    pub baseline_k: Vec<f64>,
    pub candidate_k: Vec<f64>,
    /// Number of reference functions and of those kept as stable.
    pub reference: usize,
    pub stable: usize,
    pub warnings: Vec<String>,
}

fn col_mean(rows: &[Vec<f64>], f: usize) -> f64 {
    if rows.is_empty() {
        return 0.0;
    }
    rows.iter()
        .map(|r| r.get(f).copied().unwrap_or(0.0))
        .sum::<f64>()
        / rows.len() as f64
}

/// Scale factors for self-share matrices `baseline[run][function]`, `candidate[run][function]`
/// (same function indexing on both sides). `stable_tolerance` is the absolute share difference
/// (fraction) beyond which a function is treated as changed when choosing the stable set.
pub fn scale_factors(
    baseline: &[Vec<f64>],
    candidate: &[Vec<f64>],
    stable_tolerance: f64,
) -> Normalisation {
    let nf = baseline
        .iter()
        .chain(candidate)
        .map(|r| r.len())
        .max()
        .unwrap_or(0);
    let base_mean: Vec<f64> = (0..nf).map(|f| col_mean(baseline, f)).collect();
    let cand_mean: Vec<f64> = (0..nf).map(|f| col_mean(candidate, f)).collect();
    let reference: Vec<usize> = (0..nf)
        .filter(|&f| base_mean[f] >= REFERENCE_MIN_SHARE)
        .collect();
    let identity = |warnings: Vec<String>| Normalisation {
        method: Method::None,
        baseline_k: vec![1.0; baseline.len()],
        candidate_k: vec![1.0; candidate.len()],
        reference: reference.len(),
        stable: 0,
        warnings,
    };
    if reference.len() < MIN_REFERENCE_FUNCTIONS {
        return identity(vec![format!(
            "only {} function(s) have a baseline self share >= {:.1}%, too few to correct shares for compositional shifts; deltas are raw share differences",
            reference.len(),
            REFERENCE_MIN_SHARE * 100.0
        )]);
    }
    let ratios: Vec<f64> = reference
        .iter()
        .map(|&f| cand_mean[f] / base_mean[f])
        .collect();
    let k0 = median(&ratios).filter(|k| k.is_finite() && *k > 0.0);
    let Some(k0) = k0 else {
        return identity(vec![
            "could not estimate a compositional scale factor; deltas are raw share differences"
                .into(),
        ]);
    };
    // A function is treated as changed only when its difference is both larger than the
    // tolerance and clearly outside its own run-to-run noise: excluding merely noisy functions
    // would shrink the stable set to a few small functions and make every k_r noisy.
    let se = |f: usize| {
        let var = |rows: &[Vec<f64>], mean: f64| {
            if rows.len() < 2 {
                return 0.0;
            }
            rows.iter()
                .map(|r| (r.get(f).copied().unwrap_or(0.0) - mean).powi(2))
                .sum::<f64>()
                / ((rows.len() - 1) * rows.len()) as f64
        };
        (var(baseline, base_mean[f]) + var(candidate, cand_mean[f])).sqrt()
    };
    let stable: Vec<usize> = reference
        .iter()
        .copied()
        .filter(|&f| {
            let diff = (cand_mean[f] / k0 - base_mean[f]).abs();
            diff <= stable_tolerance || diff <= CHANGE_SE_MULTIPLE * se(f)
        })
        .collect();
    let stable_mass: f64 = stable.iter().map(|&f| base_mean[f]).sum();
    let mut warnings = Vec::new();
    let (method, baseline_k, candidate_k) = if stable.len() >= 2 && stable_mass >= MIN_STABLE_MASS {
        let k = |row: &Vec<f64>| {
            stable
                .iter()
                .map(|&f| row.get(f).copied().unwrap_or(0.0))
                .sum::<f64>()
                / stable_mass
        };
        (
            Method::StableSum,
            baseline.iter().map(k).collect::<Vec<_>>(),
            candidate.iter().map(k).collect::<Vec<_>>(),
        )
    } else {
        warnings.push(format!(
            "functions that kept their share hold only {:.0}% of the baseline; the compositional scale is a per-run median of share ratios (noisier)",
            stable_mass * 100.0
        ));
        let k = |row: &Vec<f64>| {
            let r: Vec<f64> = reference
                .iter()
                .map(|&f| row.get(f).copied().unwrap_or(0.0) / base_mean[f])
                .collect();
            median(&r).unwrap_or(1.0)
        };
        (
            Method::MedianRatio,
            baseline.iter().map(k).collect(),
            candidate.iter().map(k).collect(),
        )
    };
    let fix = |ks: Vec<f64>, warnings: &mut Vec<String>, side: &str| -> Vec<f64> {
        ks.into_iter()
            .enumerate()
            .map(|(i, k)| {
                if k.is_finite() && k > 0.0 {
                    k
                } else {
                    warnings.push(format!(
                        "{side} run {i}: no samples in the reference functions; its shares are not normalised"
                    ));
                    1.0
                }
            })
            .collect()
    };
    let baseline_k = fix(baseline_k, &mut warnings, "baseline");
    let candidate_k = fix(candidate_k, &mut warnings, "candidate");
    Normalisation {
        method,
        baseline_k,
        candidate_k,
        reference: reference.len(),
        stable: stable.len(),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shares from per-function "times": the compositional model in miniature.
    fn shares(times: &[f64]) -> Vec<f64> {
        let t: f64 = times.iter().sum();
        times.iter().map(|x| x / t).collect()
    }

    #[test]
    fn slow_down_of_one_function_leaves_others_at_their_baseline_cost() {
        let base_t = [30.0, 20.0, 15.0, 10.0, 10.0, 10.0, 5.0];
        let mut cand_t = base_t;
        cand_t[0] += 10.0; // +10 points of the baseline's total
        let b = vec![shares(&base_t), shares(&base_t)];
        let c = vec![shares(&cand_t), shares(&cand_t)];
        let n = scale_factors(&b, &c, 0.005);
        assert_eq!(n.method, Method::StableSum);
        assert_eq!(n.stable, 6);
        for (r, k) in c.iter().zip(&n.candidate_k) {
            assert!((r[0] / k - 0.40).abs() < 1e-12, "{}", r[0] / k);
            assert!((r[1] / k - 0.20).abs() < 1e-12);
        }
        assert!(n.baseline_k.iter().all(|k| (k - 1.0).abs() < 1e-12));
    }

    #[test]
    fn speed_up_does_not_inflate_untouched_functions() {
        let base_t = [30.0, 20.0, 15.0, 10.0, 10.0, 10.0, 5.0];
        let mut cand_t = base_t;
        cand_t[0] = 10.0;
        let n = scale_factors(&[shares(&base_t)], &[shares(&cand_t)], 0.005);
        let c = shares(&cand_t);
        assert!((c[1] / n.candidate_k[0] - 0.20).abs() < 1e-12);
        assert!((c[0] / n.candidate_k[0] - 0.10).abs() < 1e-12);
    }

    #[test]
    fn too_few_reference_functions_falls_back_to_identity_with_warning() {
        let b = vec![vec![0.999, 0.001], vec![0.998, 0.002]];
        let n = scale_factors(&b, &b, 0.005);
        assert_eq!(n.method, Method::None);
        assert_eq!(n.candidate_k, vec![1.0, 1.0]);
        assert!(n.warnings[0].contains("too few"), "{:?}", n.warnings);
    }

    #[test]
    fn run_without_reference_samples_gets_k_one() {
        let b = vec![vec![0.4, 0.3, 0.3, 0.0], vec![0.4, 0.3, 0.3, 0.0]];
        let c = vec![vec![0.4, 0.3, 0.3, 0.0], vec![0.0, 0.0, 0.0, 1.0]];
        let n = scale_factors(&b, &c, 0.005);
        assert!(n.candidate_k.iter().all(|k| k.is_finite() && *k > 0.0));
    }
}
