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
//!    side-level scale `K0` = the weighted median over R of `candidate mean_f / baseline
//!    mean_f`, weighted by baseline share but with every weight capped at a third of the total
//!    weight ([`capped_weighted_median`]). Unweighted, a crowd of tiny per-element helpers
//!    that drift together between recording sessions (measured: load moved such a helper from
//!    0.6% to 2.3%) outvoted the two functions holding 73% of the samples and pushed K0 off;
//!    fully weighted, one dominant function that itself changed would decide K0 alone. With
//!    the cap no single function reaches half the weight, and big functions still outweigh
//!    many small ones.
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
/// Weighted median of `values` where no weight may exceed a third of the total (after capping):
/// the weights are water-filled down to the cap `c = sum(min(w, c)) / 3`. With three or fewer
/// values this makes all weights equal, i.e. the plain median. `None` when empty, on NaN, or
/// when the weights are not positive.
pub fn capped_weighted_median(values: &[f64], weights: &[f64]) -> Option<f64> {
    if values.is_empty()
        || values.len() != weights.len()
        || values.iter().chain(weights).any(|x| !x.is_finite())
        || weights.iter().any(|&w| w <= 0.0)
    {
        return None;
    }
    if values.len() <= 3 {
        return median(values);
    }
    // The fixed point of c -> sum(min(w, c)) / 3 is approached from above monotonically.
    let mut cap = weights.iter().sum::<f64>() / 3.0;
    for _ in 0..200 {
        let next = weights.iter().map(|&w| w.min(cap)).sum::<f64>() / 3.0;
        if (cap - next).abs() <= 1e-15 * cap.max(1e-300) {
            break;
        }
        cap = next;
    }
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .zip(weights)
        .map(|(&v, &w)| (v, w.min(cap)))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let mut acc = 0.0;
    for (i, &(v, w)) in pairs.iter().enumerate() {
        acc += w;
        // Exactly half: average with the next value, like the unweighted median of an even count.
        if (acc - total / 2.0).abs() <= 1e-12 * total {
            return pairs.get(i + 1).map(|n| (v + n.0) / 2.0).or(Some(v));
        }
        if acc > total / 2.0 {
            return Some(v);
        }
    }
    pairs.last().map(|p| p.0)
}

/// The reference functions whose share did not change (after the first scale estimate `k0`).
/// A function is treated as changed only when its difference is both larger than the
/// tolerance and clearly outside its own run-to-run noise: excluding merely noisy functions
/// would shrink the stable set to a few small functions and make every k_r noisy.
fn stable_functions(
    baseline: &[Vec<f64>],
    candidate: &[Vec<f64>],
    reference: &[usize],
    (base_mean, cand_mean): (&[f64], &[f64]),
    k0: f64,
    stable_tolerance: f64,
) -> Vec<usize> {
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
    reference
        .iter()
        .copied()
        .filter(|&f| {
            let diff = (cand_mean[f] / k0 - base_mean[f]).abs();
            diff <= stable_tolerance || diff <= CHANGE_SE_MULTIPLE * se(f)
        })
        .collect()
}

/// `ks` with every unusable factor (a run without samples in the reference functions)
/// replaced by 1, with a warning.
fn usable_factors(ks: Vec<f64>, warnings: &mut Vec<String>, side: &str) -> Vec<f64> {
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
}

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
    let weights: Vec<f64> = reference.iter().map(|&f| base_mean[f]).collect();
    let k0 = capped_weighted_median(&ratios, &weights).filter(|k| k.is_finite() && *k > 0.0);
    let Some(k0) = k0 else {
        return identity(vec![
            "could not estimate a compositional scale factor; deltas are raw share differences"
                .into(),
        ]);
    };
    let means = (&base_mean[..], &cand_mean[..]);
    let stable = stable_functions(baseline, candidate, &reference, means, k0, stable_tolerance);
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
    let baseline_k = usable_factors(baseline_k, &mut warnings, "baseline");
    let candidate_k = usable_factors(candidate_k, &mut warnings, "candidate");
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
    fn capped_weighted_median_is_median_for_few_values_and_caps_dominant_weights() {
        assert_eq!(
            capped_weighted_median(&[3.0, 1.0, 2.0], &[0.9, 0.05, 0.05]),
            Some(2.0)
        );
        // One dominant function (90%) that changed cannot decide the result alone.
        let v = [1.04, 0.945, 0.946, 0.944, 0.947];
        let w = [0.9, 0.03, 0.03, 0.02, 0.02];
        let k = capped_weighted_median(&v, &w).unwrap();
        assert!((0.944..=0.947).contains(&k), "{k}");
        // Two big unchanged functions outweigh a crowd of small ones that drifted together.
        let mut v = vec![0.932, 0.944, 1.6];
        let mut w = vec![0.278, 0.455, 0.09];
        for _ in 0..8 {
            v.push(1.08);
            w.push(0.012);
        }
        let k = capped_weighted_median(&v, &w).unwrap();
        assert!((0.93..=0.95).contains(&k), "{k}");
        // ...which the unweighted median gets wrong: the reason for the weights.
        assert!((median(&v).unwrap() - 1.08).abs() < 1e-12);
        assert_eq!(capped_weighted_median(&[], &[]), None);
        assert_eq!(capped_weighted_median(&[1.0, f64::NAN], &[1.0, 1.0]), None);
        assert_eq!(capped_weighted_median(&[1.0, 2.0], &[1.0, 0.0]), None);
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
