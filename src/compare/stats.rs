//! Numeric building blocks of the comparison: Welch's t-interval on per-run values,
//! multiple-comparison adjustment (Holm, Benjamini-Hochberg), and small robust helpers.
//!
//! Why Welch on per-run shares: samples inside one run are strongly autocorrelated (lag-1
//! 0.6-0.97 measured) and their dispersion depends on machine load, so a pooled binomial over
//! all samples is wrong in both directions (0% power at cpu 1 kHz, 33-63% false alarms at
//! 10 kHz / wall, docs/sampling-noise.md). Runs are the independent unit; their
//! spread is measured, not derived. Welch does not assume equal variances, which matters
//! because baseline and candidate are often recorded under different load.
//!
//! Baselines recorded in several sessions add a random effect per session: drift between
//! sessions on one machine moved means by 1-4 points, more than the spread inside a session.
//! [`variance_components`] splits a side's spread into within- and between-session parts
//! (one-way random-effects ANOVA, method of moments) and [`welch_sessions`] puts the
//! between-session part into the interval: the baseline mean varies by `s_b^2 + s_w^2 / n`
//! over its `k` sessions, and the candidate - one new session - by its own `s_b^2` on top of
//! its within-session spread (T. Kalibera and P. Tuma, "Precise Regression Benchmarking with
//! Random Effects", 2006; T. Kalibera and R. Jones, "Rigorous Benchmarking in Reasonable
//! Time", 2013).
//!
//! References: B. L. Welch (1947), "The generalization of Student's problem when several
//! different population variances are involved"; F. E. Satterthwaite (1946) for the df;
//! S. Holm (1979), "A simple sequentially rejective multiple test procedure";
//! Benjamini & Hochberg (1995), "Controlling the false discovery rate".

use statrs::distribution::{ContinuousCDF, StudentsT};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("need at least 2 runs per side to estimate run-to-run spread, got {baseline} baseline and {candidate} candidate run(s)")]
    TooFewRuns { baseline: usize, candidate: usize },
    #[error("confidence must be between 0 and 1 (exclusive), got {0}")]
    BadConfidence(f64),
    #[error("non-finite value in the input")]
    NonFinite,
}

/// Mean and sample standard deviation (n - 1); sd is 0 for fewer than 2 values.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.max(0.0).sqrt())
}

/// Median (average of the middle two for even lengths); `None` when empty or any NaN.
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() || xs.iter().any(|x| x.is_nan()) {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// The `q` quantile (0..1, linear interpolation); `None` when empty or any NaN.
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    if xs.is_empty() || xs.iter().any(|x| x.is_nan()) || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(v[lo] + (v[hi] - v[lo]) * frac)
}

/// Result of Welch's two-sample t procedure for `candidate - baseline`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    pub baseline_mean: f64,
    pub candidate_mean: f64,
    /// `candidate_mean - baseline_mean`.
    pub delta: f64,
    /// Standard error of `delta`.
    pub se: f64,
    /// Welch-Satterthwaite degrees of freedom (infinite when both variances are 0).
    pub df: f64,
    /// Two-sided p-value of `delta != 0`.
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Half-width of the confidence interval.
    pub half_width: f64,
}

/// Welch's t-interval and test on `candidate - baseline` at `confidence` (e.g. 0.95).
///
/// Zero variance on both sides (e.g. a function that is 100% of every run) gives a
/// zero-width interval: p = 1 when the means agree exactly, p = 0 otherwise.
pub fn welch(baseline: &[f64], candidate: &[f64], confidence: f64) -> Result<Welch, StatsError> {
    welch_moderated(baseline, candidate, confidence, None, None)
}

/// A prior for one side's per-run variance: `variance` worth `df` degrees of freedom, and a
/// floor below which the moderated variance is not believed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VariancePrior {
    pub variance: f64,
    pub df: f64,
    pub floor: f64,
}

/// `s^2` with `d` degrees of freedom, shrunk towards `prior` and floored (see
/// [`welch_moderated`]): returns the moderated variance and its degrees of freedom.
fn moderate(s2: f64, d: f64, prior: Option<VariancePrior>) -> (f64, f64) {
    match prior {
        Some(p) if p.df > 0.0 && p.variance.is_finite() && p.variance > 0.0 => (
            ((p.df * p.variance + d * s2) / (p.df + d)).max(p.floor),
            p.df + d,
        ),
        _ => (s2, d),
    }
}

/// A side's spread split by recording session: one-way random-effects ANOVA, method of
/// moments, with the between-session component floored at 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarianceComponents {
    /// Mean of all runs.
    pub mean: f64,
    /// Within-session variance `s_w^2` (the pooled within-session mean square).
    pub within: f64,
    /// Between-session variance `s_b^2 = max(0, (MSB - MSW) / n0)`.
    pub between: f64,
    /// The unfloored estimate `(MSB - MSW) / n0` (can be negative); pooled over functions it
    /// stays unbiased where the floored one would not.
    pub between_raw: f64,
    pub sessions: usize,
    pub runs: usize,
    /// `N - k` and `k - 1`.
    pub df_within: f64,
    pub df_between: f64,
    /// `sum(n_i^2) / N^2`: the between-session variance's weight in the variance of the mean
    /// of all runs (`1/k` when sessions are equally large).
    pub between_weight: f64,
}

/// Splits `values` (one per run) by `sessions` (the run's session id, same length). `None`
/// with fewer than two sessions, mismatched lengths, or no replicate inside any session (no
/// within-session spread to measure).
pub fn variance_components(values: &[f64], sessions: &[u32]) -> Option<VarianceComponents> {
    if values.len() != sessions.len() || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut groups: std::collections::BTreeMap<u32, Vec<f64>> = Default::default();
    for (v, s) in values.iter().zip(sessions) {
        groups.entry(*s).or_default().push(*v);
    }
    let k = groups.len();
    let n = values.len();
    if k < 2 || n <= k {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let mut ssw = 0.0;
    let mut ssb = 0.0;
    let mut sum_n2 = 0.0;
    for g in groups.values() {
        let (m, _) = mean_sd(g);
        ssw += g.iter().map(|x| (x - m).powi(2)).sum::<f64>();
        ssb += g.len() as f64 * (m - mean).powi(2);
        sum_n2 += (g.len() * g.len()) as f64;
    }
    let (df_w, df_b) = ((n - k) as f64, (k - 1) as f64);
    let msw = ssw / df_w;
    let msb = ssb / df_b;
    let n0 = (n as f64 - sum_n2 / n as f64) / df_b;
    let between_raw = (msb - msw) / n0;
    Some(VarianceComponents {
        mean,
        within: msw,
        between: between_raw.max(0.0),
        between_raw,
        sessions: k,
        runs: n,
        df_within: df_w,
        df_between: df_b,
        between_weight: sum_n2 / (n * n) as f64,
    })
}

/// Welch's interval for a baseline recorded in several sessions against a candidate from one
/// new session. With the baseline's components `s_b^2`, `s_w^2` (each moderated towards its
/// prior) and the candidate's variance `s_c^2` over `n_c` runs:
///
/// `var(delta) = s_b^2 * (sum n_i^2 / N^2) + s_w^2 / N  +  s_b^2 + s_c^2 / n_c`
///
/// (the baseline mean over its sessions, plus the candidate session's own random effect),
/// with Satterthwaite degrees of freedom over the three estimated variances. With fewer than
/// two baseline sessions this is exactly [`welch_moderated`].
pub fn welch_sessions(
    baseline: &[f64],
    sessions: &[u32],
    candidate: &[f64],
    confidence: f64,
    priors: SessionPriors,
) -> Result<Welch, StatsError> {
    let Some(vc) = variance_components(baseline, sessions) else {
        return welch_moderated(
            baseline,
            candidate,
            confidence,
            priors.baseline,
            priors.candidate,
        );
    };
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(StatsError::BadConfidence(confidence));
    }
    if candidate.len() < 2 {
        return Err(StatsError::TooFewRuns {
            baseline: baseline.len(),
            candidate: candidate.len(),
        });
    }
    if candidate.iter().any(|x| !x.is_finite()) {
        return Err(StatsError::NonFinite);
    }
    let (mb, sb) = mean_sd(candidate);
    let nc = candidate.len() as f64;
    let (sw2, dw) = moderate(vc.within, vc.df_within, priors.baseline);
    // The between-session variance is moderated upwards only: with a handful of sessions a
    // function that really drifts more than the scenario's typical one (measured: small hot-loop
    // helpers moving 1-4 points) would otherwise be pulled down to the typical drift and alarm.
    let (sbt2, db) = moderate(vc.between, vc.df_between, priors.between);
    let sbt2 = sbt2.max(vc.between);
    let (sc2, dc) = moderate(sb * sb, nc - 1.0, priors.candidate);
    let terms = [
        (sbt2 * (vc.between_weight + 1.0), db),
        (sw2 / vc.runs as f64, dw),
        (sc2 / nc, dc),
    ];
    Ok(interval(vc.mean, mb, &terms, confidence))
}

/// Priors for [`welch_sessions`]: the baseline's within-session variance, the candidate's
/// variance, and the between-session variance.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SessionPriors {
    pub baseline: Option<VariancePrior>,
    pub candidate: Option<VariancePrior>,
    pub between: Option<VariancePrior>,
}

/// The t-interval for `candidate_mean - baseline_mean` whose variance is the sum of `terms`
/// (each a variance with its degrees of freedom; Welch-Satterthwaite df).
fn interval(ma: f64, mb: f64, terms: &[(f64, f64)], confidence: f64) -> Welch {
    let delta = mb - ma;
    let var: f64 = terms.iter().map(|t| t.0).sum();
    // Relative floor: shares are ~1e-3..1, so a variance this small is rounding, not spread.
    if var <= 1e-24 {
        let p = if delta.abs() <= 1e-12 { 1.0 } else { 0.0 };
        return Welch {
            baseline_mean: ma,
            candidate_mean: mb,
            delta,
            se: 0.0,
            df: f64::INFINITY,
            p_value: p,
            ci_low: delta,
            ci_high: delta,
            half_width: 0.0,
        };
    }
    let se = var.sqrt();
    let df = var * var
        / terms
            .iter()
            .filter(|t| t.0 > 0.0)
            .map(|t| t.0 * t.0 / t.1.max(f64::MIN_POSITIVE))
            .sum::<f64>();
    let t = student_t(df);
    let q = t.inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let stat = (delta / se).abs();
    let p_value = (2.0 * t.sf(stat)).clamp(0.0, 1.0);
    let half_width = q * se;
    Welch {
        baseline_mean: ma,
        candidate_mean: mb,
        delta,
        se,
        df,
        p_value,
        ci_low: delta - half_width,
        ci_high: delta + half_width,
        half_width,
    }
}

/// Welch's procedure with each side's sample variance shrunk towards a prior (empirical Bayes,
/// the "moderated t" of Smyth 2004, limma): `s~^2 = (d0 s0^2 + d s^2) / (d0 + d)` with
/// `d0 + d` degrees of freedom. With 5 runs a sample variance has 4 df and is often off by a
/// factor of two; borrowing the scenario-wide dispersion steadies it, which matters most at
/// the small alpha a multiple-comparison correction asks for.
pub fn welch_moderated(
    baseline: &[f64],
    candidate: &[f64],
    confidence: f64,
    prior_baseline: Option<VariancePrior>,
    prior_candidate: Option<VariancePrior>,
) -> Result<Welch, StatsError> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(StatsError::BadConfidence(confidence));
    }
    if baseline.len() < 2 || candidate.len() < 2 {
        return Err(StatsError::TooFewRuns {
            baseline: baseline.len(),
            candidate: candidate.len(),
        });
    }
    if baseline.iter().chain(candidate).any(|x| !x.is_finite()) {
        return Err(StatsError::NonFinite);
    }
    let (ma, sa) = mean_sd(baseline);
    let (mb, sb) = mean_sd(candidate);
    let (na, nb) = (baseline.len() as f64, candidate.len() as f64);
    let (sa2, da) = moderate(sa * sa, na - 1.0, prior_baseline);
    let (sb2, db) = moderate(sb * sb, nb - 1.0, prior_candidate);
    Ok(interval(
        ma,
        mb,
        &[(sa2 / na, da), (sb2 / nb, db)],
        confidence,
    ))
}

/// Student-t with `df` degrees of freedom. `df` comes from Welch-Satterthwaite and is >= 1
/// whenever both sides have >= 2 runs, so `new` cannot fail; the fallback is only defensive.
fn student_t(df: f64) -> StudentsT {
    let df = if df.is_finite() && df > 0.0 { df } else { 1.0 };
    StudentsT::new(0.0, 1.0, df)
        .or_else(|_| StudentsT::new(0.0, 1.0, 1.0))
        .expect("StudentsT(0, 1, 1) is valid")
}

/// Student-t quantile for a two-sided interval at `confidence` with `df` degrees of freedom.
pub fn t_quantile(confidence: f64, df: f64) -> f64 {
    student_t(df).inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

/// Holm's step-down adjustment: controls the family-wise error rate (chance of ANY false
/// alarm) under arbitrary dependence. Returns adjusted p-values in input order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![1.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

/// Benjamini-Hochberg step-up adjustment: controls the false discovery rate. Returns adjusted
/// p-values in input order.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![1.0; m];
    let mut running: f64 = 1.0;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adj = (m as f64 / (rank + 1) as f64 * p[i]).min(1.0);
        running = running.min(adj);
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn welch_matches_reference_values() {
        let a = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let b = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let w = welch(&a, &b, 0.95).unwrap();
        assert!(close(w.delta, 2.1666667, 1e-6), "{w:?}");
        assert!(close(w.df, 24.988, 1e-2), "{w:?}");
        // Wikipedia "Welch's t-test", example 1: t = 2.46, df = 24.99, p = 0.021.
        assert!(close(w.delta / w.se, 2.4553, 1e-3), "{w:?}");
        assert!(close(w.p_value, 0.0211, 1e-3), "{w:?}");
        let q = t_quantile(0.95, w.df);
        assert!(close(q, 2.0595, 1e-3), "{q}");
        assert!(close(w.ci_high - w.ci_low, 2.0 * q * w.se, 1e-12));
    }

    #[test]
    fn moderation_adds_prior_df_and_pulls_variance_towards_prior() {
        let a = [0.10, 0.11, 0.12];
        let b = [0.20, 0.21, 0.22];
        let plain = welch(&a, &b, 0.95).unwrap();
        let prior = VariancePrior {
            variance: 0.0001,
            df: 4.0,
            floor: 0.0,
        };
        let m = welch_moderated(&a, &b, 0.95, Some(prior), Some(prior)).unwrap();
        // s^2 = 1e-4 on both sides already: same se, but 6 df per side instead of 2.
        assert!(close(m.se, plain.se, 1e-12), "{m:?} {plain:?}");
        assert!(close(m.df, 12.0, 1e-9), "{m:?}");
        // A constant side gets the prior's variance instead of zero.
        let m = welch_moderated(&[0.1, 0.1], &[0.2, 0.2], 0.95, Some(prior), Some(prior)).unwrap();
        assert!(m.se > 0.0 && m.p_value > 0.0, "{m:?}");
        // The floor wins over a small moderated variance.
        let floored = VariancePrior {
            floor: 0.01,
            ..prior
        };
        let m = welch_moderated(&a, &b, 0.95, Some(floored), Some(floored)).unwrap();
        assert!(close(m.se, (0.02f64 / 3.0).sqrt(), 1e-12), "{m:?}");
    }

    #[test]
    fn variance_components_match_the_anova_by_hand() {
        // Sessions: {1,2,3} mean 2, {5,6,7} mean 6; grand mean 4.
        // MSW = (2 + 2) / 4 = 1; MSB = 3 * (4 + 4) / 1 = 24; n0 = 3; s_b^2 = 23/3.
        let v = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0];
        let s = [0, 0, 0, 1, 1, 1];
        let c = variance_components(&v, &s).unwrap();
        assert!(close(c.within, 1.0, 1e-12), "{c:?}");
        assert!(close(c.between, 23.0 / 3.0, 1e-12), "{c:?}");
        assert!(close(c.between_weight, 0.5, 1e-12));
        assert_eq!((c.df_within, c.df_between), (4.0, 1.0));
        // Sessions that agree better than their runs: floored at 0, raw estimate negative.
        let c = variance_components(&[1.0, 3.0, 1.1, 2.9], &[0, 0, 1, 1]).unwrap();
        assert_eq!(c.between, 0.0);
        assert!(c.between_raw < 0.0);
        assert!(variance_components(&v, &[0; 6]).is_none());
        assert!(variance_components(&[1.0, 2.0], &[0, 1]).is_none());
    }

    #[test]
    fn welch_sessions_adds_the_between_session_variance() {
        let base = [0.10, 0.11, 0.10, 0.14, 0.15, 0.14, 0.12, 0.13, 0.12];
        let sessions = [0, 0, 0, 1, 1, 1, 2, 2, 2];
        let cand = [0.125, 0.13, 0.12];
        let plain = welch(&base, &cand, 0.95).unwrap();
        let w = welch_sessions(&base, &sessions, &cand, 0.95, SessionPriors::default()).unwrap();
        let c = variance_components(&base, &sessions).unwrap();
        let (_, sc) = mean_sd(&cand);
        let expected = c.between * (1.0 / 3.0 + 1.0) + c.within / 9.0 + sc * sc / 3.0;
        assert!(close(w.se * w.se, expected, 1e-15), "{w:?}");
        assert!(w.half_width > plain.half_width, "{w:?} {plain:?}");
        // One session: exactly the moderated Welch interval.
        let one = welch_sessions(&base, &[0; 9], &cand, 0.95, SessionPriors::default()).unwrap();
        assert_eq!(one, plain);
    }

    #[test]
    fn welch_zero_variance_cases() {
        let w = welch(&[0.5, 0.5], &[0.5, 0.5, 0.5], 0.95).unwrap();
        assert_eq!((w.p_value, w.half_width), (1.0, 0.0));
        let w = welch(&[0.5, 0.5], &[0.6, 0.6], 0.95).unwrap();
        assert_eq!(w.p_value, 0.0);
        assert!(close(w.ci_low, 0.1, 1e-12));
        // One side constant: df falls back to the other side's n - 1.
        let w = welch(&[0.5, 0.5, 0.5], &[0.6, 0.7, 0.8], 0.95).unwrap();
        assert!(close(w.df, 2.0, 1e-9), "{w:?}");
    }

    #[test]
    fn welch_refuses_fewer_than_two_runs() {
        assert_eq!(
            welch(&[0.1], &[0.1, 0.2], 0.95).unwrap_err(),
            StatsError::TooFewRuns {
                baseline: 1,
                candidate: 2
            }
        );
        assert!(welch(&[0.1, 0.2], &[0.1, 0.2], 1.0).is_err());
        assert!(welch(&[0.1, f64::NAN], &[0.1, 0.2], 0.9).is_err());
    }

    #[test]
    fn holm_and_bh_match_reference() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
        let p = [0.01, 0.04, 0.03, 0.005];
        let h = holm(&p);
        for (x, y) in h.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert!(close(*x, y, 1e-12), "{h:?}");
        }
        // R: p.adjust(.., "BH") = 0.02 0.04 0.04 0.02
        let b = benjamini_hochberg(&p);
        for (x, y) in b.iter().zip([0.02, 0.04, 0.04, 0.02]) {
            assert!(close(*x, y, 1e-12), "{b:?}");
        }
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn median_and_mean_sd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.75), Some(4.0));
        assert_eq!(quantile(&[1.0, 2.0], 0.5), Some(1.5));
        assert_eq!(quantile(&[], 0.5), None);
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert!(close(m, 2.5, 1e-12) && close(s, 1.2909944, 1e-6));
    }
}
