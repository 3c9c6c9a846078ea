//! One scenario's comparison: two [`SampleSet`]s and the scenario's gate settings in, a
//! [`ScenarioComparison`] with a verdict per function and metric out.
//!
//! Pipeline: compatibility check -> per-run shares -> compositional normalisation
//! ([`super::normalize`]) -> Welch interval per function and metric ([`super::stats`]) ->
//! multiple-comparison adjustment over the functions that could move by min_effect ->
//! decision rule ([`super::verdict`]) -> budgets -> scenario status.

use super::compat::compatibility;
use super::model::*;
use super::normalize::{scale_factors, Method, REFERENCE_MIN_SHARE};
use super::stats::{
    benjamini_hochberg, holm, mean_sd, median, quantile, variance_components, welch,
    welch_sessions, SessionPriors, StatsError, VariancePrior,
};
use super::verdict::{decide, EffectRule};
use crate::aggregate::{merge_stacks, FunctionId};
use crate::baseline::SampleSet;
use crate::scenario::GateSettings;
use globset::{Glob, GlobMatcher};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::collections::{BTreeMap, HashMap};

/// Default smallest change that gates: 1 percentage point of the baseline's samples.
pub const DEFAULT_MIN_EFFECT: f64 = 0.01;
/// Default for wall-mode captures: 5 points. In wall mode, machine load moves the *mean* share
/// (measured here: 24.2% quiet vs 28.2% busy for the same workload, and a bundled thread-pool
/// A/A `check` flagged +3.9 points two minutes after its baseline), and no per-run statistic
/// can tell that from a code change. A smaller threshold would turn load into false alarms.
pub const DEFAULT_MIN_EFFECT_WALL: f64 = 0.05;

/// Sides whose median sampler error rates differ by at least this many points get a warning.
pub const ERROR_RATE_WARN_DIFF_PP: f64 = 2.0;

/// A warning when the two sides were sampled with clearly different error rates. Failed
/// samples are not spread evenly over functions (reads fail more often in code that C calls
/// back into), so the error rate alone moves shares: measured here, the bundled `sorting`
/// baseline recorded at 6.4-7.4% errors against candidates at 1.3-1.9% moved `composite_key`
/// by 4 points with no code change.
pub fn error_rate_warning(
    baseline: &[crate::aggregate::RunAggregate],
    candidate: &[crate::aggregate::RunAggregate],
) -> Option<String> {
    let diff = error_rate_difference(baseline, candidate)?;
    (diff.2 >= ERROR_RATE_WARN_DIFF_PP / 100.0).then(|| {
        format!(
            "sampler error rates differ: baseline median {:.1}%, candidate {:.1}%; failed samples fall unevenly across functions (code called back from C fails more often), so a share can move by up to the difference without any code change: min_effect is at least {:.1} points here; re-record the baseline in a session with a similar error rate, or compare with `tachygate ab`",
            diff.0 * 100.0,
            diff.1 * 100.0,
            diff.2 * 100.0
        )
    })
}

/// Median sampler error rates of both sides and their absolute difference, as fractions; `None`
/// when either side has no recorded rates.
///
/// Why the difference bounds what can be attributed to code: if a fraction `e` of sampling
/// attempts fail and the failures fall unevenly, a function's share can move by up to about `e`
/// (all lost samples were someone else's, or all were its own). Between sides recorded at
/// different rates, shifts up to the difference are explained by the sampler alone; measured
/// here, `sorting` at 6.7% vs 1.6% moved `composite_key` by 4.0 points (raw) in an A/A.
pub fn error_rate_difference(
    baseline: &[crate::aggregate::RunAggregate],
    candidate: &[crate::aggregate::RunAggregate],
) -> Option<(f64, f64, f64)> {
    let median_rate = |runs: &[crate::aggregate::RunAggregate]| {
        let rates: Vec<f64> = runs.iter().filter_map(|r| r.error_rate_pct).collect();
        crate::compare::stats::median(&rates).map(|pct| pct / 100.0)
    };
    let (b, c) = (median_rate(baseline)?, median_rate(candidate)?);
    Some((b, c, (b - c).abs()))
}

/// The smallest change that gates when neither `--min-effect` nor the scenario sets one.
pub fn default_min_effect(mode: crate::scenario::Mode) -> f64 {
    match mode {
        crate::scenario::Mode::Wall => DEFAULT_MIN_EFFECT_WALL,
        _ => DEFAULT_MIN_EFFECT,
    }
}
/// Default confidence of the intervals.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// A function present on only one side is `new`/`gone` when its mean share there is at least
/// this; below it the function is noise-level and reported `unchanged`.
pub const NEW_GONE_MIN_SHARE: f64 = 0.005;
/// A function whose raw mean cumulative share is at least this on both sides is a root frame
/// (`<module>`, `_run_code`, a `main` wrapper): its cumulative row is neither tested nor
/// listed. Such a row can move by at most 5 raw points, and its normalised value is close to
/// `1 / k_r`, the scale factor itself: a test would re-test whatever the normalisation
/// excluded as changed, and a reader saw `100.0% -> 100.0%, +17.0 pp` (see
/// `docs/statistics.md`).
pub const ROOT_FRAME_SHARE: f64 = 0.95;
/// When the functions present on one side only hold at least this share of either side's
/// samples, the sides do not measure the same code (paths recorded in another location, or
/// a different workload) and the comparison is refused: passing it would be a silent pass.
pub const IDENTITY_MISMATCH_SHARE: f64 = 0.5;
/// Degrees of freedom of the variance prior. Tuned by simulation: 4 gave 1.1% wall-mode A/A
/// false alarms, 2 over-covering intervals (97.5%); 3 keeps both in bounds.
pub const PRIOR_DF: f64 = 3.0;
/// Degrees of freedom of the between-session variance prior (see `between_session_prior`).
/// With 3 sessions a function's own estimate has 2 df; simulation (tests/stats_simulation.rs,
/// 3 sessions x 5 runs, cpu 1 kHz): 3 gave 91% power at +2 points, 6 gave 94%, 12 gave 96%,
/// A/A unchanged (0.33%) - the estimate is only ever moderated upwards (`welch_sessions`), so
/// a function that drifts more than the scenario's typical one keeps its own variance.
pub const BETWEEN_PRIOR_DF: f64 = 12.0;
/// Quantile of the functions' dispersion used as the variance floor: a function is never
/// assumed quieter than the 60th percentile of its scenario's functions (a sample variance
/// from 5 runs is too unreliable to trust a lucky low one). Simulation: without the floor
/// wall-mode A/A false alarms were 2%; 0.75 over-covered (97.2%).
pub const FLOOR_QUANTILE: f64 = 0.6;
/// Rows whose raw mean share exceeds this on either side are compared with plain Welch (no
/// variance prior) and do not inform the prior.
pub const MAX_PRIOR_SHARE: f64 = 0.9;
/// Fewer tested rows than this: no variance prior (plain Welch).
pub const MIN_ROWS_FOR_PRIOR: usize = 3;
/// Fewer runs per side than this still compares, with a warning.
pub const RECOMMENDED_MIN_RUNS: usize = 3;

/// Multiple-comparison adjustment across one scenario's tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Adjustment {
    /// Holm: family-wise error rate (default; a gate must not cry wolf).
    #[default]
    Holm,
    /// Benjamini-Hochberg: false discovery rate.
    BenjaminiHochberg,
    /// None (for experiments only).
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    pub confidence: f64,
    /// Overrides the scenario's `gate.min_effect_pp` (fraction, 0.01 = 1 point).
    pub min_effect: Option<f64>,
    /// Compare despite refused differences (they become warnings).
    pub allow_mismatch: bool,
    /// Significant improvements of gated functions fail the scenario too.
    pub fail_on_improved: bool,
    pub adjustment: Adjustment,
    pub effect_rule: EffectRule,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            confidence: DEFAULT_CONFIDENCE,
            min_effect: None,
            allow_mismatch: false,
            fail_on_improved: false,
            adjustment: Adjustment::Holm,
            effect_rule: EffectRule::PointEstimate,
        }
    }
}

/// Why a scenario could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("scenario {scenario}: captures are not comparable ({}); make both sides with the same settings, or pass --allow-mismatch to compare anyway", .differences.join("; "))]
    Mismatch {
        scenario: String,
        differences: Vec<String>,
    },
    #[error("scenario {scenario}: {cause}; record more runs (`repeats` in the scenario)")]
    Stats { scenario: String, cause: StatsError },
    #[error("scenario {scenario}: invalid glob {pattern:?} in [gate]: {cause}")]
    Glob {
        scenario: String,
        pattern: String,
        cause: globset::Error,
    },
    #[error("cannot compare scenario {baseline} with scenario {candidate}")]
    DifferentScenarios { baseline: String, candidate: String },
    #[error("scenario {scenario}: the two sides do not profile the same functions: {:.0}% of the baseline's samples are in functions absent from the candidate and {:.0}% of the candidate's in functions absent from the baseline (refused at {:.0}%); {hint}", .gone_share * 100.0, .new_share * 100.0, IDENTITY_MISMATCH_SHARE * 100.0)]
    IdentityMismatch {
        scenario: String,
        gone_share: f64,
        new_share: f64,
        hint: String,
    },
}

struct GateGlobs {
    advisory: bool,
    focus: Vec<GlobMatcher>,
    /// (pattern length, matcher, override) - longest matching pattern wins.
    functions: Vec<(usize, GlobMatcher, crate::scenario::FunctionGate)>,
}

fn compile(scenario: &str, pattern: &str) -> Result<GlobMatcher, CompareError> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|source| CompareError::Glob {
            scenario: scenario.to_string(),
            pattern: pattern.to_string(),
            cause: source,
        })
}

impl GateGlobs {
    fn new(scenario: &str, gate: &GateSettings) -> Result<Self, CompareError> {
        let focus = gate
            .focus
            .iter()
            .map(|p| compile(scenario, p))
            .collect::<Result<_, _>>()?;
        let functions = gate
            .functions
            .iter()
            .map(|(p, g)| Ok((p.len(), compile(scenario, p)?, g.clone())))
            .collect::<Result<_, CompareError>>()?;
        Ok(GateGlobs {
            advisory: gate.advisory,
            focus,
            functions,
        })
    }

    fn gated(&self, key: &str) -> bool {
        !self.advisory && (self.focus.is_empty() || self.focus.iter().any(|m| m.is_match(key)))
    }

    fn function_gate(&self, key: &str) -> Option<&crate::scenario::FunctionGate> {
        self.functions
            .iter()
            .filter(|(_, m, _)| m.is_match(key))
            .max_by_key(|(len, _, _)| *len)
            .map(|(_, _, g)| g)
    }
}

/// Per-run shares of one side, indexed `[run][function]`.
struct Shares {
    self_: Vec<Vec<f64>>,
    cum: Vec<Vec<f64>>,
    present: Vec<bool>,
}

fn shares(set: &SampleSet, index: &BTreeMap<&FunctionId, usize>) -> Shares {
    let nf = index.len();
    let mut self_ = Vec::with_capacity(set.runs.len());
    let mut cum = Vec::with_capacity(set.runs.len());
    let mut present = vec![false; nf];
    for run in &set.runs {
        let total = run.total_samples.max(1) as f64;
        let mut s = vec![0.0; nf];
        let mut c = vec![0.0; nf];
        for f in &run.functions {
            if let Some(&i) = index.get(&f.function) {
                s[i] = f.self_samples as f64 / total;
                c[i] = f.cumulative_samples as f64 / total;
                if f.self_samples > 0 || f.cumulative_samples > 0 {
                    present[i] = true;
                }
            }
        }
        self_.push(s);
        cum.push(c);
    }
    Shares {
        self_,
        cum,
        present,
    }
}

fn column(rows: &[Vec<f64>], f: usize, k: &[f64]) -> Vec<f64> {
    rows.iter()
        .zip(k)
        .map(|(r, k)| r.get(f).copied().unwrap_or(0.0) / k)
        .collect()
}

fn summary(values: Vec<f64>) -> ShareSummary {
    let (mean, sd) = mean_sd(&values);
    ShareSummary {
        runs: values.len(),
        mean,
        sd,
        per_run: values,
    }
}

/// Describes one side for the report.
pub fn side_info(set: &SampleSet) -> SideInfo {
    SideInfo {
        source: set.source.clone(),
        runs: set.runs.len(),
        total_samples: set.total_samples(),
        sampler: set.sampler.clone(),
        environment: set.environment.clone(),
        created: set.created,
    }
}

/// A comparison that could not be made, for the report (status `Error`).
pub fn error_comparison(
    scenario: &str,
    confidence: f64,
    baseline: Option<&SampleSet>,
    candidate: Option<&SampleSet>,
    errors: Vec<String>,
    warnings: Vec<String>,
) -> ScenarioComparison {
    ScenarioComparison {
        scenario: scenario.to_string(),
        status: ScenarioStatus::Error,
        baseline: baseline.map(side_info),
        candidate: candidate.map(side_info),
        warnings,
        errors,
        confidence,
        functions: Vec::new(),
        flame: None,
        reproduce: None,
    }
}

/// Compares one scenario's baseline and candidate. Refusals (incompatible captures without
/// `allow_mismatch`, fewer than 2 runs on a side, bad globs) are errors; the caller turns them
/// into an `Error` entry with [`error_comparison`].
///
/// The steps: `check_inputs` -> per-run shares and `check_identity` -> normalisation ->
/// `rows` (one Welch interval per function and metric) -> `moderate_variances` ->
/// `test_family` (multiplicity adjustment) -> `decide_rows` -> [`annotate_rows`].
pub fn compare_sets(
    baseline: &SampleSet,
    candidate: &SampleSet,
    gate: &GateSettings,
    opts: &CompareOptions,
) -> Result<ScenarioComparison, CompareError> {
    let scenario = baseline.scenario.as_str();
    let mut warnings = check_inputs(baseline, candidate, opts)?;
    // Shifts up to the difference in sampler error rates are explained by the sampler alone.
    let error_floor = error_rate_difference(&baseline.runs, &candidate.runs)
        .map(|d| d.2)
        .filter(|d| *d >= ERROR_RATE_WARN_DIFF_PP / 100.0)
        .unwrap_or(0.0);
    let globs = GateGlobs::new(scenario, gate)?;
    if gate.advisory {
        warnings.push(
            "advisory scenario ([gate] advisory = true): verdicts and budgets are reported but never fail the gate".to_string(),
        );
    }
    let default_me = opts
        .min_effect
        .or(gate.min_effect_pp.map(|pp| pp / 100.0))
        .unwrap_or_else(|| default_min_effect(baseline.sampler.mode));

    let mut index: BTreeMap<&FunctionId, usize> = BTreeMap::new();
    for f in baseline
        .runs
        .iter()
        .chain(&candidate.runs)
        .flat_map(|r| &r.functions)
    {
        let next = index.len();
        index.entry(&f.function).or_insert(next);
    }
    // Re-number in sorted order so the output is sorted by function.
    for (i, v) in index.values_mut().enumerate() {
        *v = i;
    }
    let functions: Vec<&FunctionId> = index.keys().copied().collect();
    let b = shares(baseline, &index);
    let c = shares(candidate, &index);
    check_identity(scenario, &functions, &b, &c)?;

    let norm = scale_factors(&b.self_, &c.self_, default_me / 2.0);
    warnings.extend(norm.warnings.iter().cloned());
    let stats_err = |cause| CompareError::Stats {
        scenario: scenario.to_string(),
        cause,
    };
    let inputs = RowInputs {
        functions: &functions,
        b: &b,
        c: &c,
        bk: &norm.baseline_k,
        ck: &norm.candidate_k,
        gate,
        globs: &globs,
        default_min_effect: default_me,
        error_floor,
        confidence: opts.confidence,
    };
    let mut rows = rows(&inputs).map_err(stats_err)?;
    moderate_variances(&mut rows, baseline, candidate, opts.confidence).map_err(stats_err)?;
    let (p_adj, tested) = test_family(&rows, opts.adjustment);
    let runs = baseline.runs.len().max(candidate.runs.len());
    let (mut out, failing) = decide_rows(rows, p_adj, tested, globs.advisory, opts, runs);
    let flame = merge_stacks(&candidate.runs);
    annotate_rows(&mut out, flame.as_ref());
    if norm.method == Method::MedianRatio && norm.reference < 5 {
        warnings.push(format!(
            "only {} functions have a baseline self share >= {:.1}%; the compositional correction is rough",
            norm.reference,
            REFERENCE_MIN_SHARE * 100.0
        ));
    }

    Ok(ScenarioComparison {
        scenario: scenario.to_string(),
        status: if failing {
            ScenarioStatus::Fail
        } else {
            ScenarioStatus::Pass
        },
        baseline: Some(side_info(baseline)),
        candidate: Some(side_info(candidate)),
        warnings,
        errors: Vec::new(),
        confidence: opts.confidence,
        functions: out,
        flame,
        reproduce: None,
    })
}

/// Step: refuse what cannot be compared (different scenarios, a bad confidence, fewer than 2
/// runs a side, a capture mismatch without `allow_mismatch`); the warnings about the rest.
fn check_inputs(
    baseline: &SampleSet,
    candidate: &SampleSet,
    opts: &CompareOptions,
) -> Result<Vec<String>, CompareError> {
    let scenario = baseline.scenario.as_str();
    if baseline.scenario != candidate.scenario {
        return Err(CompareError::DifferentScenarios {
            baseline: baseline.scenario.clone(),
            candidate: candidate.scenario.clone(),
        });
    }
    let stats_err = |source| CompareError::Stats {
        scenario: scenario.to_string(),
        cause: source,
    };
    if !(opts.confidence > 0.0 && opts.confidence < 1.0) {
        return Err(stats_err(StatsError::BadConfidence(opts.confidence)));
    }
    let (nb, nc) = (baseline.runs.len(), candidate.runs.len());
    if nb < 2 || nc < 2 {
        return Err(stats_err(StatsError::TooFewRuns {
            baseline: nb,
            candidate: nc,
        }));
    }
    let compat = compatibility(baseline, candidate);
    let mut warnings = compat.warnings;
    if !compat.refusals.is_empty() {
        if !opts.allow_mismatch {
            return Err(CompareError::Mismatch {
                scenario: scenario.to_string(),
                differences: compat.refusals,
            });
        }
        warnings.extend(
            compat
                .refusals
                .iter()
                .map(|d| format!("compared despite a capture mismatch (--allow-mismatch): {d}")),
        );
    }
    if nb < RECOMMENDED_MIN_RUNS || nc < RECOMMENDED_MIN_RUNS {
        warnings.push(format!(
            "only {nb} baseline and {nc} candidate run(s): intervals are wide and most changes will be inconclusive; use at least {RECOMMENDED_MIN_RUNS} (5 recommended)"
        ));
    }
    if let Some(w) = error_rate_warning(&baseline.runs, &candidate.runs) {
        warnings.push(w);
    }
    Ok(warnings)
}

/// One function and metric on its way to a verdict.
struct Row {
    function: FunctionId,
    metric: Metric,
    gated: bool,
    baseline: ShareSummary,
    candidate: ShareSummary,
    welch: super::stats::Welch,
    raw_delta: f64,
    min_effect: f64,
    absent: Option<Verdict>,
    tested: bool,
    /// A root frame's cumulative row: neither tested nor listed.
    root: bool,
    /// The cumulative row of a function that is only ever a leaf duplicates its self
    /// row: it shares the self row's test instead of counting twice in the family.
    twin_of: Option<usize>,
    budget: Option<f64>,
    norm_b: Vec<f64>,
    norm_c: Vec<f64>,
}

impl Row {
    /// Shares near 1 (callers' cumulative shares) vary through the scale factor, not through
    /// binomial-like sampling: a binomial prior (~0 variance) would understate their spread,
    /// and their huge variance/binomial ratios would inflate everyone else's floor.
    fn binomial_like(&self) -> bool {
        self.baseline.mean.max(self.candidate.mean) <= MAX_PRIOR_SHARE
    }
}

/// What [`rows`] reads: both sides' shares, their scale factors and the gate.
struct RowInputs<'a> {
    functions: &'a [&'a FunctionId],
    b: &'a Shares,
    c: &'a Shares,
    bk: &'a [f64],
    ck: &'a [f64],
    gate: &'a GateSettings,
    globs: &'a GateGlobs,
    default_min_effect: f64,
    /// The min_effect floor set by the sides' sampler error rates.
    error_floor: f64,
    confidence: f64,
}

/// Step: a self and a cumulative row per function, each with its unmoderated Welch interval
/// on normalised shares, its min_effect and whether it joins the tested family.
fn rows(x: &RowInputs) -> Result<Vec<Row>, StatsError> {
    let (b, c, bk, ck) = (x.b, x.c, x.bk, x.ck);
    let ones_b = vec![1.0; b.self_.len()];
    let ones_c = vec![1.0; c.self_.len()];
    let mut rows = Vec::with_capacity(x.functions.len() * 2);
    for (fi, &fid) in x.functions.iter().enumerate() {
        let key = fid.to_string();
        let fgate = x.globs.function_gate(&key);
        for metric in [Metric::SelfShare, Metric::Cumulative] {
            let (bm, cm) = match metric {
                Metric::SelfShare => (&b.self_, &c.self_),
                Metric::Cumulative => (&b.cum, &c.cum),
            };
            let raw_b = column(bm, fi, &ones_b);
            let raw_c = column(cm, fi, &ones_c);
            let norm_b = column(bm, fi, bk);
            let norm_c = column(cm, fi, ck);
            let w = welch(&norm_b, &norm_c, x.confidence)?;
            let rb = summary(raw_b);
            let rc = summary(raw_c);
            let mut me = fgate
                .and_then(|g| g.min_effect_pp)
                .map(|pp| pp / 100.0)
                .unwrap_or(x.default_min_effect);
            if let Some(rel) = x.gate.min_effect_rel {
                me = me.max(rel * rb.mean);
            }
            me = me.max(x.error_floor);
            let absent = match (b.present[fi], c.present[fi]) {
                (false, true) if w.candidate_mean >= NEW_GONE_MIN_SHARE => Some(Verdict::New),
                (true, false) if w.baseline_mean >= NEW_GONE_MIN_SHARE => Some(Verdict::Gone),
                (true, true) => None,
                _ => Some(Verdict::Unchanged),
            };
            // A function below min_effect on both sides cannot have moved by min_effect:
            // leaving it out of the family keeps the multiplicity correction from eating
            // power that the functions which matter need.
            let twin_of = match metric {
                Metric::Cumulative
                    if norm_b == column(&b.self_, fi, bk) && norm_c == column(&c.self_, fi, ck) =>
                {
                    Some(rows.len() - 1)
                }
                _ => None,
            };
            // A root frame is on (nearly) every sample: its normalised cumulative share is
            // about 1 / k_r, the scale factor itself, so a test of it would re-test whatever
            // the normalisation excluded as changed - with the selection bias of that choice.
            let root = is_root_frame(metric, rb.mean, rc.mean);
            let tested = absent.is_none()
                && twin_of.is_none()
                && !root
                && w.baseline_mean.max(w.candidate_mean) >= me;
            let budget = match metric {
                Metric::SelfShare => fgate.and_then(|g| g.max_share),
                Metric::Cumulative => None,
            };
            rows.push(Row {
                function: fid.clone(),
                metric,
                gated: x.globs.gated(&key),
                raw_delta: rc.mean - rb.mean,
                baseline: rb,
                candidate: rc,
                welch: w,
                min_effect: me,
                absent,
                tested,
                root,
                twin_of,
                budget,
                norm_b,
                norm_c,
            });
        }
    }
    Ok(rows)
}

/// Step: empirical-Bayes variance moderation (see `stats::welch_moderated`). Each side's
/// prior is the scenario-wide dispersion relative to binomial, from the rows that are tested;
/// a baseline of several sessions adds the between-session variance to every interval
/// (`stats::welch_sessions`), its within-session spread informing the prior.
fn moderate_variances(
    rows: &mut [Row],
    baseline: &SampleSet,
    candidate: &SampleSet,
    confidence: f64,
) -> Result<(), StatsError> {
    let (nb, nc) = (baseline.runs.len(), candidate.runs.len());
    let samples_b = baseline.total_samples() as f64 / nb as f64;
    let samples_c = candidate.total_samples() as f64 / nc as f64;
    let tested_b: Vec<&[f64]> = rows
        .iter()
        .filter(|r| r.tested && r.binomial_like())
        .map(|r| &r.norm_b[..])
        .collect();
    let tested_c: Vec<&[f64]> = rows
        .iter()
        .filter(|r| r.tested && r.binomial_like())
        .map(|r| &r.norm_c[..])
        .collect();
    let sessions = baseline.session_of_runs();
    let disp_b = if baseline.session_count() >= 2 {
        let within: Vec<(f64, f64)> = tested_b
            .iter()
            .filter_map(|v| variance_components(v, &sessions))
            .map(|c| (c.within, c.mean))
            .collect();
        let d = nb.saturating_sub(baseline.session_count()) as f64;
        dispersion_of(&within, d, samples_b)
    } else {
        dispersion(&tested_b, samples_b)
    };
    let disp_c = dispersion(&tested_c, samples_c);
    let between = between_session_prior(&tested_b, &sessions);
    let prior = |disp: Option<Dispersion>, values: &[f64], n: f64| {
        disp.map(|d: Dispersion| {
            let bv = binomial_var(mean_sd(values).0, n);
            VariancePrior {
                variance: d.typical * bv,
                df: PRIOR_DF,
                floor: d.floor * bv,
            }
        })
    };
    let multi_session = baseline.session_count() >= 2;
    for row in rows
        .iter_mut()
        .filter(|r| r.absent.is_none() && (multi_session || r.binomial_like()))
    {
        let priors = if row.binomial_like() {
            SessionPriors {
                baseline: prior(disp_b, &row.norm_b, samples_b),
                candidate: prior(disp_c, &row.norm_c, samples_c),
                between: between.map(|d| {
                    let m2 = mean_sd(&row.norm_b).0.powi(2);
                    VariancePrior {
                        variance: (d.typical * m2).max(f64::MIN_POSITIVE),
                        df: BETWEEN_PRIOR_DF,
                        floor: d.floor * m2,
                    }
                }),
            }
        } else {
            SessionPriors::default()
        };
        row.welch = welch_sessions(&row.norm_b, &sessions, &row.norm_c, confidence, priors)?;
    }
    Ok(())
}

/// Step: the multiple-comparison adjustment over the tested rows. Returns each row's adjusted
/// p-value (1 outside the family) and whether it was tested; a twin row takes its self row's.
fn test_family(rows: &[Row], adjustment: Adjustment) -> (Vec<f64>, Vec<bool>) {
    let family: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].tested).collect();
    let p: Vec<f64> = family.iter().map(|&i| rows[i].welch.p_value).collect();
    let adjusted = match adjustment {
        Adjustment::Holm => holm(&p),
        Adjustment::BenjaminiHochberg => benjamini_hochberg(&p),
        Adjustment::None => p.clone(),
    };
    let mut p_adj = vec![1.0; rows.len()];
    for (&i, q) in family.iter().zip(adjusted) {
        p_adj[i] = q;
    }
    let mut tested: Vec<bool> = rows.iter().map(|r| r.tested).collect();
    for i in 0..rows.len() {
        if let Some(t) = rows[i].twin_of {
            p_adj[i] = p_adj[t];
            tested[i] = tested[t];
        }
    }
    (p_adj, tested)
}

/// Step: a verdict per listed row (root frames are dropped) and budgets; whether any gated
/// row fails the scenario. `runs` is the larger side's run count (for `runs_needed`).
fn decide_rows(
    rows: Vec<Row>,
    p_adj: Vec<f64>,
    tested: Vec<bool>,
    advisory: bool,
    opts: &CompareOptions,
    runs: usize,
) -> (Vec<FunctionComparison>, bool) {
    let alpha = 1.0 - opts.confidence;
    let mut out = Vec::with_capacity(rows.len());
    let mut failing = false;
    for ((row, p_adjusted), tested) in rows.into_iter().zip(p_adj).zip(tested) {
        if row.root {
            continue;
        }
        let (verdict, runs_needed) = match row.absent {
            Some(v) => (v, None),
            None if !tested => (Verdict::Unchanged, None),
            None => decide(
                &row.welch,
                p_adjusted,
                alpha,
                row.min_effect,
                opts.effect_rule,
                runs,
            ),
        };
        let budget_breached = row.budget.is_some_and(|max| row.candidate.mean > max);
        failing |= (budget_breached && !advisory)
            || (row.gated
                && (verdict == Verdict::Regressed
                    || (opts.fail_on_improved && verdict == Verdict::Improved)));
        out.push(FunctionComparison {
            function: row.function,
            metric: row.metric,
            gated: row.gated,
            baseline: row.baseline,
            candidate: row.candidate,
            delta: row.welch.delta,
            ci_low: row.welch.ci_low,
            ci_high: row.welch.ci_high,
            raw_delta: row.raw_delta,
            p_value: row.welch.p_value,
            p_adjusted,
            min_effect: row.min_effect,
            verdict,
            runs_needed,
            budget: row.budget,
            budget_breached,
            note: None,
            carried_by: Vec::new(),
        });
    }
    (out, failing)
}

/// Step: refuse sides whose functions do not match. When the functions present on one side
/// only hold at least [`IDENTITY_MISMATCH_SHARE`] of either side's samples (mean self
/// shares, which sum to 1 per run), every such row would read `new`/`gone` - and those never
/// fail the gate: a moved project or a different workload would pass silently.
fn check_identity(
    scenario: &str,
    functions: &[&FunctionId],
    b: &Shares,
    c: &Shares,
) -> Result<(), CompareError> {
    let mean_self = |side: &Shares, i: usize| {
        side.self_.iter().map(|r| r[i]).sum::<f64>() / side.self_.len().max(1) as f64
    };
    let one_sided = |side: &Shares, other: &Shares| {
        let mut idx: Vec<usize> = (0..functions.len())
            .filter(|&i| side.present[i] && !other.present[i])
            .collect();
        let share: f64 = idx.iter().map(|&i| mean_self(side, i)).sum();
        idx.sort_by(|&x, &y| mean_self(side, y).total_cmp(&mean_self(side, x)));
        (share, idx)
    };
    let (gone_share, gone) = one_sided(b, c);
    let (new_share, new) = one_sided(c, b);
    if gone_share.max(new_share) < IDENTITY_MISMATCH_SHARE {
        return Ok(());
    }
    // The same qualified name under another path is the signature of a project recorded in
    // another location (absolute paths, or paths relative to a different root).
    let moved = gone.iter().find_map(|&g| {
        new.iter()
            .find(|&&n| functions[n].name == functions[g].name)
            .map(|&n| (functions[g], functions[n]))
    });
    let hint = match moved {
        Some((g, n)) => format!(
            "the same functions appear under different paths (baseline `{g}`, candidate `{n}`): the sides were recorded in different locations. Paths are relative to the git repository, else to the scenario root (the directory holding scenarios/); re-record the baseline from this checkout (`tachygate baseline update`), or compare sides made from the same scenario definitions (--scenarios DIR)"
        ),
        None => {
            let top = |idx: &[usize]| {
                idx.first()
                    .map_or_else(|| "none".to_string(), |&i| format!("`{}`", functions[i]))
            };
            format!(
                "largest baseline-only function {}, candidate-only {}: the sides profile different workloads, or the hot code was renamed; if that is intended, re-record the baseline (`tachygate baseline update`)",
                top(&gone),
                top(&new)
            )
        }
    };
    Err(CompareError::IdentityMismatch {
        scenario: scenario.to_string(),
        gone_share,
        new_share,
        hint,
    })
}

/// Step (after the verdicts): the notes that keep intervals and verdicts from contradicting
/// each other ([`note_for`]) and the grouping of carrying callers under their causes
/// ([`attribute_to_causes`]). Public so that hand-built reports get the same annotations.
pub fn annotate_rows(rows: &mut [FunctionComparison], flame: Option<&FlameData>) {
    for r in rows.iter_mut() {
        r.note = note_for(r);
    }
    attribute_to_causes(rows, flame);
}

/// Whether a cumulative row belongs to a root frame ([`ROOT_FRAME_SHARE`] on both sides).
pub fn is_root_frame(metric: Metric, baseline_mean: f64, candidate_mean: f64) -> bool {
    metric == Metric::Cumulative && baseline_mean.min(candidate_mean) >= ROOT_FRAME_SHARE
}

/// How to read an `unchanged` row whose interval excludes zero (a real change smaller than
/// min_effect, or a row outside the tested family), so that no report prints an interval
/// beside a verdict that seems to contradict it.
fn note_for(r: &FunctionComparison) -> Option<RowNote> {
    let excludes_zero = r.ci_low > 0.0 || r.ci_high < 0.0;
    if r.verdict != Verdict::Unchanged || !excludes_zero {
        return None;
    }
    Some(if r.delta.abs() < r.min_effect {
        RowNote::BelowMinEffect
    } else {
        RowNote::NotTested
    })
}

/// Step: group callers under the functions whose own cost changed. A regressed or improved
/// cumulative row of F is *carried* when the self changes (regressed/improved self rows) of
/// F and of the functions below F in the candidate's stacks explain it: their sum lies
/// inside F's interval, or leaves less than min_effect unexplained. A culprit called both
/// below F and elsewhere contributes the part of its change that falls below F, in
/// proportion to its candidate leaf samples there (measured on pyperformance's `go`:
/// `ZobristHash.update` +13 points overall, about three quarters of it under
/// `EmptySet.random_choice`). Its verdict stays (and still gates), but it is not another
/// cause. Without stacks (a baseline file as candidate) only F's own self change can
/// explain its cumulative row.
fn attribute_to_causes(rows: &mut [FunctionComparison], flame: Option<&FlameData>) {
    let changed = |v: Verdict| matches!(v, Verdict::Regressed | Verdict::Improved);
    let culprits: HashMap<FunctionId, f64> = rows
        .iter()
        .filter(|r| r.metric == Metric::SelfShare && changed(r.verdict))
        .map(|r| (r.function.clone(), r.delta))
        .collect();
    if culprits.is_empty() {
        return;
    }
    for r in rows
        .iter_mut()
        .filter(|r| r.metric == Metric::Cumulative && changed(r.verdict))
    {
        let mut explaining: Vec<(FunctionId, f64)> = culprits
            .get(&r.function)
            .map(|d| (r.function.clone(), *d))
            .into_iter()
            .collect();
        if let Some(fd) = flame {
            for (g, fraction) in below(fd, &r.function) {
                if let Some(d) = culprits.get(&g) {
                    explaining.push((g, *d * fraction));
                }
            }
        }
        if explaining.is_empty() {
            continue;
        }
        let sum: f64 = explaining.iter().map(|(_, d)| d).sum();
        let carried = (r.ci_low <= sum && sum <= r.ci_high) || (r.delta - sum).abs() < r.min_effect;
        if carried {
            explaining.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            r.carried_by = explaining.into_iter().map(|(f, _)| f).collect();
        }
    }
}

/// The functions that are the leaf of some stack through `f` (not `f` itself), each with the
/// fraction of its leaf samples that fall below `f`.
fn below(fd: &FlameData, f: &FunctionId) -> Vec<(FunctionId, f64)> {
    let Some(id) = fd.functions.iter().position(|g| g == f) else {
        return Vec::new();
    };
    let id = id as u32;
    let n = fd.functions.len();
    let (mut under, mut total) = (vec![0u64; n], vec![0u64; n]);
    for st in &fd.stacks {
        let Some(&leaf) = st.frames.last() else {
            continue;
        };
        let Some(t) = total.get_mut(leaf as usize) else {
            continue;
        };
        *t += st.count;
        if leaf != id && st.frames.contains(&id) {
            under[leaf as usize] += st.count;
        }
    }
    (0..n)
        .filter(|&g| under[g] > 0)
        .map(|g| (fd.functions[g].clone(), under[g] as f64 / total[g] as f64))
        .collect()
}

/// Binomial variance of a share `m` over `n` samples (clamped away from 0 and 1 so that the
/// dispersion ratio stays finite).
fn binomial_var(m: f64, n: f64) -> f64 {
    let m = m.clamp(1e-4, 0.999);
    m * (1.0 - m) / n.max(1.0)
}

/// A side's run-to-run dispersion relative to binomial, pooled over the tested rows: the
/// median (and [`FLOOR_QUANTILE`]) of the ratio of sample variance to binomial variance,
/// each divided by the same quantile of chi^2_d / d, so that with equally noisy functions
/// both estimate the common dispersion.
fn dispersion(rows: &[&[f64]], samples: f64) -> Option<Dispersion> {
    let vars: Vec<(f64, f64)> = rows
        .iter()
        .map(|values| {
            let (m, sd) = mean_sd(values);
            (sd * sd, m)
        })
        .collect();
    let runs = rows.first().map_or(0, |v| v.len());
    dispersion_of(&vars, runs.saturating_sub(1) as f64, samples)
}

/// [`dispersion`] from per-row `(variance, mean)` pairs whose variances have `d` degrees of
/// freedom each.
fn dispersion_of(vars: &[(f64, f64)], d: f64, samples: f64) -> Option<Dispersion> {
    if vars.len() < MIN_ROWS_FOR_PRIOR || d < 1.0 {
        return None;
    }
    let ratios: Vec<f64> = vars
        .iter()
        .map(|(v, m)| v / binomial_var(*m, samples))
        .collect();
    let chi2 = ChiSquared::new(d).ok()?;
    let typical = median(&ratios)? / (chi2.inverse_cdf(0.5) / d);
    let high = quantile(&ratios, FLOOR_QUANTILE)? / (chi2.inverse_cdf(FLOOR_QUANTILE) / d);
    (typical.is_finite() && typical > 0.0 && high.is_finite()).then_some(Dispersion {
        typical,
        floor: high.max(typical),
    })
}

/// The scenario's typical between-session variance relative to the squared mean (the prior of
/// each function's between-session component) and its [`FLOOR_QUANTILE`] (the floor), from the
/// method-of-moments estimates of the tested rows - unfloored, so that pooling them is not
/// biased upwards. `None` with fewer than two sessions or too few rows.
///
/// Why relative to the mean and not to binomial variance: a session shifts a function's *time*
/// by a factor (load, frequency, layout), so its share moves in proportion to the share; scaled
/// by binomial variance, the many small functions would set a prior far below the hot ones'.
fn between_session_prior(rows: &[&[f64]], sessions: &[u32]) -> Option<Dispersion> {
    let ratios: Vec<f64> = rows
        .iter()
        .filter_map(|v| variance_components(v, sessions))
        .filter(|c| c.mean > 0.0)
        .map(|c| c.between_raw / (c.mean * c.mean))
        .collect();
    if ratios.len() < MIN_ROWS_FOR_PRIOR {
        return None;
    }
    let typical = median(&ratios)?.max(0.0);
    let floor = quantile(&ratios, FLOOR_QUANTILE)?.max(typical);
    (typical.is_finite() && floor.is_finite()).then_some(Dispersion { typical, floor })
}

/// A side's dispersion relative to binomial: the typical value (the prior) and an upper
/// quantile (the variance floor; equal to the typical one when all functions are alike).
#[derive(Debug, Clone, Copy)]
struct Dispersion {
    typical: f64,
    floor: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{FunctionStat, RunAggregate, StackCount};
    use crate::baseline::BASELINE_VERSION;
    use crate::scenario::FunctionGate;

    /// Runs from per-function work; `wobble` varies each run a little (deterministic).
    fn set(work: &[(&str, f64)]) -> SampleSet {
        let wobble = [0.0, 0.01, -0.01, 0.005, -0.005];
        let runs = wobble
            .iter()
            .enumerate()
            .map(|(r, w)| {
                let t: Vec<f64> = work
                    .iter()
                    .enumerate()
                    .map(|(i, (_, x))| x * (1.0 + if i % 2 == r % 2 { *w } else { -*w }))
                    .collect();
                let total: f64 = t.iter().sum();
                let counts: Vec<u64> = t
                    .iter()
                    .map(|x| (x / total * 2000.0).round() as u64)
                    .collect();
                let sum: u64 = counts.iter().sum();
                let mut functions: Vec<FunctionStat> = work
                    .iter()
                    .zip(&counts)
                    .filter(|(_, c)| **c > 0)
                    .map(|((n, _), c)| FunctionStat {
                        function: FunctionId::new("app.py", *n),
                        self_samples: *c,
                        cumulative_samples: *c,
                    })
                    .collect();
                functions.push(FunctionStat {
                    function: FunctionId::new("app.py", "main"),
                    self_samples: 0,
                    cumulative_samples: sum,
                });
                functions.sort_by(|a, b| a.function.cmp(&b.function));
                RunAggregate {
                    total_samples: sum,
                    functions,
                    error_rate_pct: None,
                    stacks: vec![StackCount {
                        frames: vec![0],
                        count: 1,
                    }],
                }
            })
            .collect();
        SampleSet {
            version: BASELINE_VERSION,
            scenario: "s".into(),
            fingerprint: "f".into(),
            sampler: Default::default(),
            environment: Default::default(),
            machine_class: None,
            source: "test".into(),
            created: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            sessions: Vec::new(),
            run_sessions: Vec::new(),
            runs,
        }
    }

    const BASE: [(&str, f64); 6] = [
        ("a", 0.30),
        ("b", 0.20),
        ("c", 0.15),
        ("d", 0.15),
        ("e", 0.12),
        ("f", 0.08),
    ];

    fn with(changes: &[(&str, f64)]) -> Vec<(&'static str, f64)> {
        let mut w: Vec<(&str, f64)> = BASE.to_vec();
        for (n, x) in changes {
            match w.iter_mut().find(|(m, _)| m == n) {
                Some(e) => e.1 = *x,
                None => w.push((Box::leak(n.to_string().into_boxed_str()), *x)),
            }
        }
        w
    }

    fn row<'a>(c: &'a ScenarioComparison, name: &str, m: Metric) -> &'a FunctionComparison {
        c.functions
            .iter()
            .find(|f| f.function.name == name && f.metric == m)
            .unwrap()
    }

    fn cmp(b: &SampleSet, c: &SampleSet, gate: &GateSettings) -> ScenarioComparison {
        compare_sets(b, c, gate, &CompareOptions::default()).unwrap()
    }

    #[test]
    fn output_is_sorted_and_has_both_metrics() {
        let c = cmp(&set(&BASE), &set(&BASE), &GateSettings::default());
        // 7 functions x 2 metrics, less main's cumulative row (a root frame: not listed).
        assert_eq!(c.functions.len(), 13);
        let keys: Vec<_> = c
            .functions
            .iter()
            .map(|f| (f.function.clone(), f.metric == Metric::Cumulative))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(c.status, ScenarioStatus::Pass);
        assert!(c.flame.is_some());
    }

    #[test]
    fn new_and_gone_use_the_threshold() {
        let b = set(&with(&[("old", 0.05), ("tiny_old", 0.001)]));
        let c = set(&with(&[("fresh", 0.05), ("tiny_new", 0.001)]));
        let c = cmp(&b, &c, &GateSettings::default());
        assert_eq!(row(&c, "fresh", Metric::SelfShare).verdict, Verdict::New);
        assert_eq!(row(&c, "old", Metric::SelfShare).verdict, Verdict::Gone);
        assert_eq!(
            row(&c, "tiny_new", Metric::SelfShare).verdict,
            Verdict::Unchanged
        );
        assert_eq!(
            row(&c, "tiny_old", Metric::SelfShare).verdict,
            Verdict::Unchanged
        );
        assert_eq!(c.status, ScenarioStatus::Pass);
    }

    #[test]
    fn budget_fails_regardless_of_baseline_and_focus_limits_gating() {
        let mut gate = GateSettings::default();
        gate.functions.insert(
            "*:a".into(),
            FunctionGate {
                min_effect_pp: None,
                max_share: Some(0.25),
            },
        );
        let c = cmp(&set(&BASE), &set(&BASE), &gate);
        let a = row(&c, "a", Metric::SelfShare);
        assert!(a.budget_breached && a.budget == Some(0.25));
        assert!(row(&c, "a", Metric::Cumulative).budget.is_none());
        assert_eq!(c.status, ScenarioStatus::Fail);

        let gate = GateSettings {
            focus: vec!["*:b".into()],
            ..GateSettings::default()
        };
        let c = cmp(&set(&BASE), &set(&with(&[("c", 0.30)])), &gate);
        let cr = row(&c, "c", Metric::SelfShare);
        assert_eq!(cr.verdict, Verdict::Regressed);
        assert!(!cr.gated);
        assert_eq!(c.status, ScenarioStatus::Pass);
    }

    #[test]
    fn different_sampler_error_rates_are_warned_about() {
        let mk = |e: Option<f64>| RunAggregate {
            error_rate_pct: e,
            ..RunAggregate::default()
        };
        let w = error_rate_warning(&vec![mk(Some(6.5)); 3], &vec![mk(Some(1.5)); 3]).unwrap();
        assert!(w.contains("6.5%") && w.contains("1.5%"), "{w}");
        assert!(error_rate_warning(&vec![mk(Some(2.0)); 3], &vec![mk(Some(1.5)); 3]).is_none());
        assert!(error_rate_warning(&vec![mk(None); 3], &vec![mk(Some(1.5)); 3]).is_none());
    }

    #[test]
    fn error_rate_difference_raises_min_effect() {
        // c: +3 points of the baseline's total: regressed at equal error rates...
        let slow = set(&with(&[("c", 0.18)]));
        let c = cmp(&set(&BASE), &slow, &GateSettings::default());
        assert_eq!(row(&c, "c", Metric::SelfShare).verdict, Verdict::Regressed);
        // ...but within what a 5-point difference in sampler error rates explains.
        let (mut base, mut cand) = (set(&BASE), slow);
        base.runs
            .iter_mut()
            .for_each(|r| r.error_rate_pct = Some(6.5));
        cand.runs
            .iter_mut()
            .for_each(|r| r.error_rate_pct = Some(1.5));
        let c = cmp(&base, &cand, &GateSettings::default());
        let cr = row(&c, "c", Metric::SelfShare);
        assert!((cr.min_effect - 0.05).abs() < 1e-9, "{}", cr.min_effect);
        assert_ne!(cr.verdict, Verdict::Regressed);
        assert!(c.warnings.iter().any(|w| w.contains("error rates differ")));
    }

    #[test]
    fn advisory_scenario_reports_regressions_and_budgets_but_passes() {
        let mut gate = GateSettings {
            advisory: true,
            ..GateSettings::default()
        };
        gate.functions.insert(
            "*:a".into(),
            FunctionGate {
                min_effect_pp: None,
                max_share: Some(0.25),
            },
        );
        let c = cmp(&set(&BASE), &set(&with(&[("c", 0.30)])), &gate);
        let cr = row(&c, "c", Metric::SelfShare);
        assert_eq!(cr.verdict, Verdict::Regressed);
        assert!(!cr.gated);
        assert!(row(&c, "a", Metric::SelfShare).budget_breached);
        assert_eq!(c.status, ScenarioStatus::Pass);
        assert!(
            c.warnings.iter().any(|w| w.contains("advisory")),
            "{:?}",
            c.warnings
        );
        // The same comparison without `advisory` fails: the test above is not vacuous.
        gate.advisory = false;
        let c = cmp(&set(&BASE), &set(&with(&[("c", 0.30)])), &gate);
        assert_eq!(c.status, ScenarioStatus::Fail);
    }

    #[test]
    fn wall_mode_defaults_to_a_five_point_min_effect() {
        // c: +3 points of the baseline's total: a regression in cpu mode, within the load
        // noise of wall mode (where load alone moved a share by 4 points here).
        let slow = set(&with(&[("c", 0.18)]));
        let (mut base_w, mut slow_w) = (set(&BASE), slow.clone());
        base_w.sampler.mode = crate::scenario::Mode::Wall;
        slow_w.sampler.mode = crate::scenario::Mode::Wall;
        let c = cmp(&base_w, &slow_w, &GateSettings::default());
        let cr = row(&c, "c", Metric::SelfShare);
        assert!((cr.min_effect - 0.05).abs() < 1e-12, "{}", cr.min_effect);
        assert_ne!(cr.verdict, Verdict::Regressed);
        let c = cmp(&set(&BASE), &slow, &GateSettings::default());
        let cr = row(&c, "c", Metric::SelfShare);
        assert!((cr.min_effect - 0.01).abs() < 1e-12, "{}", cr.min_effect);
        assert_eq!(cr.verdict, Verdict::Regressed);
    }

    #[test]
    fn per_function_and_relative_min_effect() {
        // c: +3 points of the baseline's total.
        let slow = set(&with(&[("c", 0.18)]));
        let mut gate = GateSettings::default();
        gate.functions.insert(
            "app.py:c".into(),
            FunctionGate {
                min_effect_pp: Some(5.0),
                max_share: None,
            },
        );
        let c = cmp(&set(&BASE), &slow, &gate);
        let cr = row(&c, "c", Metric::SelfShare);
        assert!((cr.min_effect - 0.05).abs() < 1e-12);
        assert_ne!(cr.verdict, Verdict::Regressed);

        let gate = GateSettings {
            min_effect_rel: Some(0.5),
            ..GateSettings::default()
        };
        let c = cmp(&set(&BASE), &slow, &gate);
        let cr = row(&c, "c", Metric::SelfShare);
        assert!(cr.min_effect > 0.07, "{}", cr.min_effect);
        assert_ne!(cr.verdict, Verdict::Regressed);
        // Default: flagged.
        let c = cmp(&set(&BASE), &slow, &GateSettings::default());
        assert_eq!(row(&c, "c", Metric::SelfShare).verdict, Verdict::Regressed);
        assert_eq!(c.status, ScenarioStatus::Fail);
    }

    #[test]
    fn entry_point_and_leaf_twin_rows_are_not_separate_tests() {
        let c = cmp(
            &set(&BASE),
            &set(&with(&[("c", 0.25)])),
            &GateSettings::default(),
        );
        // main is on every sample: its cumulative row is neither tested nor listed.
        assert!(c
            .functions
            .iter()
            .all(|f| !(f.function.name == "main" && f.metric == Metric::Cumulative)));
        // A leaf's cumulative row shares its self row's test.
        let (s, cu) = (
            row(&c, "c", Metric::SelfShare),
            row(&c, "c", Metric::Cumulative),
        );
        assert_eq!(s.p_adjusted, cu.p_adjusted);
        assert_eq!(s.verdict, cu.verdict);
    }

    /// main -> left -> {a, b, c}, main -> right -> {d, e, f}: per-run counts and the
    /// function-level stacks that make `right` the caller of d.
    fn tree_set(work: &[(&str, f64)]) -> SampleSet {
        let mut s = set(work);
        for run in &mut s.runs {
            let selfs: HashMap<String, u64> = run
                .functions
                .iter()
                .map(|f| (f.function.name.clone(), f.self_samples))
                .collect();
            let count = |n: &str| selfs.get(n).copied().unwrap_or(0);
            let left: u64 = ["a", "b", "c"].iter().map(|n| count(n)).sum();
            let right: u64 = ["d", "e", "f"].iter().map(|n| count(n)).sum();
            for (name, cum) in [("left", left), ("right", right)] {
                run.functions.push(FunctionStat {
                    function: FunctionId::new("app.py", name),
                    self_samples: 0,
                    cumulative_samples: cum,
                });
            }
            run.functions.sort_by(|a, b| a.function.cmp(&b.function));
            let idx = |n: &str| {
                run.functions
                    .iter()
                    .position(|f| f.function.name == n)
                    .unwrap() as u32
            };
            run.stacks = ["a", "b", "c", "d", "e", "f"]
                .iter()
                .filter(|n| count(n) > 0)
                .map(|n| {
                    let mid = if "abc".contains(*n) { "left" } else { "right" };
                    StackCount {
                        frames: vec![idx("main"), idx(mid), idx(n)],
                        count: count(n),
                    }
                })
                .collect();
        }
        s
    }

    #[test]
    fn one_slowed_function_is_one_cause_with_its_caller_carrying_it() {
        let c = cmp(
            &tree_set(&BASE),
            &tree_set(&with(&[("d", 0.25)])),
            &GateSettings::default(),
        );
        let d = row(&c, "d", Metric::SelfShare);
        assert_eq!(d.verdict, Verdict::Regressed);
        let right = row(&c, "right", Metric::Cumulative);
        assert_eq!(right.verdict, Verdict::Regressed, "{right:?}");
        assert_eq!(right.carried_by, vec![FunctionId::new("app.py", "d")]);
        // d's cumulative row (a leaf: the twin of its self row) is its own cause's.
        assert_eq!(
            row(&c, "d", Metric::Cumulative).carried_by,
            vec![FunctionId::new("app.py", "d")]
        );
        let cs = causes(&c);
        assert_eq!(cs.len(), 1, "{cs:?}");
        assert_eq!(cs[0].function.name, "d");
        assert_eq!(cs[0].carriers, vec![FunctionId::new("app.py", "right")]);
        assert_eq!(gated_regressions(&c).len(), 1);
        assert_eq!(
            c.status,
            ScenarioStatus::Fail,
            "the culprit still fails the gate"
        );

        // Without stacks (e.g. a baseline file as the candidate) the caller is its own cause.
        let mut flat = tree_set(&with(&[("d", 0.25)]));
        flat.runs.iter_mut().for_each(|r| r.stacks.clear());
        let c = cmp(&tree_set(&BASE), &flat, &GateSettings::default());
        assert!(row(&c, "right", Metric::Cumulative).carried_by.is_empty());
        assert_eq!(causes(&c).len(), 2);
    }

    #[test]
    fn a_caller_whose_change_is_not_explained_below_is_its_own_cause() {
        // right grows through d (+10 points) while the self rows say d grew by far less:
        // fake it by letting the caller's cumulative count exceed its children's.
        let mut cand = tree_set(&with(&[("d", 0.25)]));
        for run in &mut cand.runs {
            let d_self = run
                .functions
                .iter()
                .find(|f| f.function.name == "d")
                .unwrap()
                .self_samples;
            // Move most of d's growth into right's own (self) time: d's self row then
            // changes little, right's cumulative row a lot.
            let moved = d_self / 3;
            for f in &mut run.functions {
                match f.function.name.as_str() {
                    "d" => {
                        f.self_samples -= moved;
                        f.cumulative_samples -= moved;
                    }
                    "right" => f.self_samples += moved,
                    _ => {}
                }
            }
        }
        let c = cmp(&tree_set(&BASE), &cand, &GateSettings::default());
        let right = row(&c, "right", Metric::Cumulative);
        assert_eq!(right.verdict, Verdict::Regressed, "{right:?}");
        assert_eq!(
            row(&c, "right", Metric::SelfShare).verdict,
            Verdict::Regressed
        );
        // right is a cause (its own time grew), counted once for both of its rows.
        let cs = causes(&c);
        assert_eq!(
            cs.iter().filter(|k| k.function.name == "right").count(),
            1,
            "{cs:?}"
        );
    }

    #[test]
    fn notes_keep_unchanged_rows_from_contradicting_their_interval() {
        let c = cmp(
            &set(&BASE),
            &set(&with(&[("c", 0.157)])),
            &GateSettings::default(),
        );
        assert!(contradictions(&c).is_empty(), "{:?}", contradictions(&c));
        for f in &c.functions {
            let excludes_zero = f.ci_low > 0.0 || f.ci_high < 0.0;
            if f.note == Some(RowNote::BelowMinEffect) {
                assert!(f.delta.abs() < f.min_effect && excludes_zero, "{f:?}");
            }
        }
        // c moved by ~0.7 points: a real change smaller than min_effect.
        let cr = row(&c, "c", Metric::SelfShare);
        assert_eq!(cr.verdict, Verdict::Unchanged);
        assert!(cr.ci_low > 0.0, "{cr:?}");
        assert_eq!(cr.label(), "below min_effect");
    }

    #[test]
    fn sides_with_different_functions_are_refused() {
        let mut moved = set(&BASE);
        for run in &mut moved.runs {
            for f in &mut run.functions {
                f.function.file = format!("/tmp/elsewhere/{}", f.function.file);
            }
        }
        let e = compare_sets(
            &set(&BASE),
            &moved,
            &GateSettings::default(),
            &Default::default(),
        )
        .unwrap_err();
        assert!(matches!(e, CompareError::IdentityMismatch { .. }));
        let msg = e.to_string();
        assert!(msg.contains("different locations"), "{msg}");
        assert!(msg.contains("100% of the baseline's samples"), "{msg}");

        let other = set(&[("x", 0.5), ("y", 0.3), ("z", 0.2)]);
        let msg = compare_sets(
            &set(&BASE),
            &other,
            &GateSettings::default(),
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("different workloads"), "{msg}");
        // A new function holding 30% is a change, not a mismatch.
        let c = cmp(
            &set(&BASE),
            &set(&with(&[("fresh", 0.45)])),
            &GateSettings::default(),
        );
        assert_eq!(row(&c, "fresh", Metric::SelfShare).verdict, Verdict::New);
    }

    #[test]
    fn refusals_and_warnings() {
        let b = set(&BASE);
        let mut wall = set(&BASE);
        wall.sampler.mode = crate::scenario::Mode::Wall;
        let e = compare_sets(&b, &wall, &GateSettings::default(), &Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("mode: baseline gil, candidate wall"), "{e}");
        assert!(e.contains("--allow-mismatch"), "{e}");
        let opts = CompareOptions {
            allow_mismatch: true,
            ..Default::default()
        };
        let c = compare_sets(&b, &wall, &GateSettings::default(), &opts).unwrap();
        assert!(c.warnings.iter().any(|w| w.contains("mode: baseline gil")));

        let mut one = set(&BASE);
        one.runs.truncate(1);
        let e = compare_sets(&b, &one, &GateSettings::default(), &Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 2 runs"), "{e}");
        let mut two = set(&BASE);
        two.runs.truncate(2);
        let c = cmp(&b, &two, &GateSettings::default());
        assert!(c
            .warnings
            .iter()
            .any(|w| w.contains("only 5 baseline and 2")));

        let bad = GateSettings {
            focus: vec!["[".into()],
            ..GateSettings::default()
        };
        assert!(matches!(
            compare_sets(&b, &b, &bad, &Default::default()),
            Err(CompareError::Glob { .. })
        ));
    }

    #[test]
    fn fail_on_improved() {
        let fast = set(&with(&[("a", 0.15)]));
        let c = cmp(&set(&BASE), &fast, &GateSettings::default());
        assert_eq!(row(&c, "a", Metric::SelfShare).verdict, Verdict::Improved);
        assert_eq!(c.status, ScenarioStatus::Pass);
        assert!(c.functions.iter().all(|f| f.verdict != Verdict::Regressed));
        let opts = CompareOptions {
            fail_on_improved: true,
            ..Default::default()
        };
        let c = compare_sets(&set(&BASE), &fast, &GateSettings::default(), &opts).unwrap();
        assert_eq!(c.status, ScenarioStatus::Fail);
    }

    #[test]
    fn merged_stacks_skip_out_of_range_frames() {
        let mut s = set(&BASE);
        s.runs[0].stacks.push(StackCount {
            frames: vec![0, 999],
            count: 7,
        });
        let f = merge_stacks(&s.runs).unwrap();
        // Only the five valid one-frame stacks (one per run), merged.
        assert_eq!(f.stacks.len(), 1);
        assert_eq!(f.stacks[0].count, 5);
    }
}
