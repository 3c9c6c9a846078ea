use crate::aggregate::FunctionId;
use crate::run::Environment;
use crate::scenario::SamplerSettings;
use serde::{Deserialize, Serialize};

/// Bumped when the JSON report's shape changes incompatibly.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Share of samples with the function as leaf.
    #[serde(rename = "self")]
    SelfShare,
    /// Share of samples with the function anywhere on the stack.
    Cumulative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Regressed,
    Improved,
    Unchanged,
    /// The interval is too wide to rule out a change of at least `min_effect`.
    Inconclusive,
    /// Absent from the baseline, present above the threshold in the candidate.
    New,
    /// Present in the baseline above the threshold, absent from the candidate.
    Gone,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
            Verdict::New => "new",
            Verdict::Gone => "gone",
        }
    }
}

/// Per-run shares of one side (fractions 0..1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareSummary {
    pub runs: usize,
    pub mean: f64,
    pub sd: f64,
    /// The per-run shares themselves, as measured (raw). `FunctionComparison::delta` and its
    /// interval are computed after compositional normalisation (see `docs/statistics.md`).
    pub per_run: Vec<f64>,
}

/// One function, one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionComparison {
    pub function: FunctionId,
    pub metric: Metric,
    /// Whether this function can fail the gate (focus globs; all when none are set).
    pub gated: bool,
    /// Raw per-run shares, as measured.
    pub baseline: ShareSummary,
    pub candidate: ShareSummary,
    /// Change in share (candidate - baseline, fraction), after compositional normalisation.
    pub delta: f64,
    /// Confidence interval of `delta`.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Change in raw (unnormalised) mean share.
    pub raw_delta: f64,
    pub p_value: f64,
    /// p-value after multiple-comparison adjustment across the scenario's functions.
    pub p_adjusted: f64,
    /// The smallest change that gates, as a fraction (e.g. 0.01 = 1 point).
    pub min_effect: f64,
    pub verdict: Verdict,
    /// For `inconclusive`: roughly how many runs per side would settle it.
    pub runs_needed: Option<u32>,
    /// Absolute budget (fraction), if configured, and whether the candidate breaches it.
    pub budget: Option<f64>,
    pub budget_breached: bool,
    /// How to read an `unchanged` verdict whose interval excludes zero (see [`RowNote`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<RowNote>,
    /// For a regressed/improved cumulative row: the functions below it in the candidate's
    /// stacks (or itself) whose self change explains this row's change. The row is shown
    /// grouped under them and does not count as a regression of its own; empty when the row
    /// is a cause itself (or for self rows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried_by: Vec<FunctionId>,
}

/// Why an `unchanged` row's interval may exclude zero without contradicting its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowNote {
    /// Significant, but smaller than min_effect: a real but negligible change.
    BelowMinEffect,
    /// Not in the tested family (e.g. below min_effect on both sides).
    NotTested,
}

impl FunctionComparison {
    /// The verdict as a reader should see it: never `unchanged` beside an interval that
    /// excludes zero (that reads as a contradiction); `below min_effect` / `not tested`
    /// instead.
    pub fn label(&self) -> &'static str {
        match (self.verdict, self.note) {
            (Verdict::Unchanged, Some(RowNote::BelowMinEffect)) => "below min_effect",
            (Verdict::Unchanged, Some(RowNote::NotTested)) => "not tested",
            (v, _) => v.as_str(),
        }
    }

    /// A regressed/improved row explained by a change elsewhere (or by its own self row).
    pub fn is_carried(&self) -> bool {
        !self.carried_by.is_empty()
    }
}

/// One cause of change in a scenario: a function whose own cost changed (its self row is
/// regressed or improved), or a cumulative row whose change no self change below it
/// explains; with the callers' cumulative rows that merely carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub function: FunctionId,
    /// `regressed` or `improved`.
    pub verdict: Verdict,
    /// Whether the cause can fail the gate (any of its own rows is gated).
    pub gated: bool,
    /// Its own rows' change (percentage points of the baseline's total, normalised): the
    /// self row's when it has one, else the cumulative row's.
    pub delta: f64,
    /// Callers whose cumulative rows carry this change (not counted separately).
    pub carriers: Vec<FunctionId>,
}

/// The causes of a scenario's regressions and improvements, largest change first: each
/// culprit once, its carrying callers grouped under it. Counting these (not rows) gives
/// "1 regression" for one slowed function, not one per caller.
pub fn causes(s: &ScenarioComparison) -> Vec<Cause> {
    let mut out: Vec<Cause> = Vec::new();
    let changed =
        |f: &FunctionComparison| matches!(f.verdict, Verdict::Regressed | Verdict::Improved);
    // Own causes: changed rows that are not carried by something else.
    for f in s.functions.iter().filter(|f| changed(f)) {
        let own = f.carried_by.is_empty() || f.carried_by == [f.function.clone()];
        if !own {
            continue;
        }
        match out
            .iter_mut()
            .find(|c| c.function == f.function && c.verdict == f.verdict)
        {
            Some(c) => {
                c.gated |= f.gated;
                if f.metric == Metric::SelfShare {
                    c.delta = f.delta;
                }
            }
            None => out.push(Cause {
                function: f.function.clone(),
                verdict: f.verdict,
                gated: f.gated,
                delta: f.delta,
                carriers: Vec::new(),
            }),
        }
    }
    // Carriers, under the largest of their culprits.
    for f in s.functions.iter().filter(|f| changed(f)) {
        if f.carried_by.is_empty() || f.carried_by == [f.function.clone()] {
            continue;
        }
        let target = out
            .iter_mut()
            .filter(|c| f.carried_by.contains(&c.function))
            .max_by(|a, b| a.delta.abs().total_cmp(&b.delta.abs()));
        if let Some(c) = target.filter(|c| c.function != f.function) {
            // A gated caller carrying an ungated culprit still fails the gate (through its
            // own row), so the cause counts as gated.
            c.gated |= f.gated;
            if !c.carriers.contains(&f.function) {
                c.carriers.push(f.function.clone());
            }
        }
    }
    out.sort_by(|a, b| {
        (a.verdict, !a.gated)
            .cmp(&(b.verdict, !b.gated))
            .then(b.delta.abs().total_cmp(&a.delta.abs()))
            .then(a.function.cmp(&b.function))
    });
    out
}

/// Regression causes that can fail the gate.
pub fn gated_regressions(s: &ScenarioComparison) -> Vec<Cause> {
    causes(s)
        .into_iter()
        .filter(|c| c.gated && c.verdict == Verdict::Regressed)
        .collect()
}

/// Description of one side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideInfo {
    /// Label, results dir or baseline path.
    pub source: String,
    pub runs: usize,
    pub total_samples: u64,
    pub sampler: SamplerSettings,
    pub environment: Environment,
    pub created: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioStatus {
    /// No gated regression, no budget breach.
    Pass,
    /// At least one gated regression or budget breach.
    Fail,
    /// Runs failed or the comparison could not be made (see `errors`).
    Error,
    /// Baselines exist for this scenario, but none recorded on this machine's class: nothing
    /// was compared (another class's data never produces a verdict). Does not fail the gate
    /// unless `check --require-baselines`; `warnings` say why and how to record one.
    NoBaselineForMachine,
}

impl ScenarioStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioStatus::Pass => "pass",
            ScenarioStatus::Fail => "fail",
            ScenarioStatus::Error => "error",
            ScenarioStatus::NoBaselineForMachine => "no_baseline_for_machine",
        }
    }
}

pub use crate::aggregate::FlameData;

/// The comparison of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioComparison {
    pub scenario: String,
    pub status: ScenarioStatus,
    pub baseline: Option<SideInfo>,
    pub candidate: Option<SideInfo>,
    /// Compatibility warnings (CPU model, patch version, or mismatches allowed by
    /// `--allow-mismatch`), and run exclusions.
    pub warnings: Vec<String>,
    /// Why the scenario is in `Error` (run failures, refused comparison).
    pub errors: Vec<String>,
    /// Confidence level of the intervals (e.g. 0.95).
    pub confidence: f64,
    /// Both metrics of every function seen on either side, sorted by function then metric.
    pub functions: Vec<FunctionComparison>,
    pub flame: Option<FlameData>,
    /// Shell command that reproduces the candidate's runs locally.
    pub reproduce: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    Pass,
    Fail,
    Error,
}

impl OverallStatus {
    /// The process exit code of a report with this status.
    pub fn exit_code(self) -> crate::exit::Exit {
        use crate::exit::Exit;
        match self {
            OverallStatus::Pass => Exit::Pass,
            OverallStatus::Fail => Exit::Regression,
            OverallStatus::Error => Exit::Failure,
        }
    }
}

/// Everything one `check` / `compare` produced: the reports' input, and `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonReport {
    pub schema_version: u32,
    pub tachygate_version: String,
    pub label: String,
    pub created: chrono::DateTime<chrono::Utc>,
    pub status: OverallStatus,
    pub scenarios: Vec<ScenarioComparison>,
    /// Link target for function rows in the HTML report: an `http(s)` URL with `{file}`
    /// (repo-relative path) and `{commit}` (candidate's commit, else `HEAD`) placeholders,
    /// e.g. `https://github.com/o/r/blob/{commit}/{file}`. Other schemes are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url_template: Option<String>,
}

/// Rows whose numbers and verdict would read as a contradiction, one message each (empty
/// when the scenario reads consistently). The invariants every report relies on:
/// - a row labelled `unchanged` has an interval that contains zero (otherwise it carries a
///   note and reads `below min_effect` / `not tested`);
/// - `regressed` has an interval above zero and a change of at least min_effect, `improved`
///   the mirror image;
/// - no root frame's cumulative row is listed (≥ 95% on both sides: `100.0% -> 100.0%`
///   beside a large normalised change);
/// - a changed cumulative row whose shares read equal is carried by a culprit below it, so
///   its change is explained where it is shown.
pub fn contradictions(s: &ScenarioComparison) -> Vec<String> {
    let mut out = Vec::new();
    for f in &s.functions {
        let what = format!(
            "{} {:?} ({:.1}% -> {:.1}%, {:+.2} [{:+.2}, {:+.2}] pp, {})",
            f.function,
            f.metric,
            f.baseline.mean * 100.0,
            f.candidate.mean * 100.0,
            f.delta * 100.0,
            f.ci_low * 100.0,
            f.ci_high * 100.0,
            f.label()
        );
        match f.label() {
            "unchanged" if f.ci_low > 0.0 || f.ci_high < 0.0 => out.push(format!(
                "unchanged beside an interval excluding zero: {what}"
            )),
            "regressed" if !(f.ci_low > 0.0 && f.delta >= f.min_effect) => {
                out.push(format!("regressed without a clear increase: {what}"))
            }
            "improved" if !(f.ci_high < 0.0 && f.delta <= -f.min_effect) => {
                out.push(format!("improved without a clear decrease: {what}"))
            }
            _ => {}
        }
        if f.metric == Metric::Cumulative && f.baseline.mean.min(f.candidate.mean) >= 0.95 {
            out.push(format!("root frame listed: {what}"));
        }
        let same_shares =
            format!("{:.1}", f.baseline.mean * 100.0) == format!("{:.1}", f.candidate.mean * 100.0);
        if same_shares
            && f.metric == Metric::Cumulative
            && matches!(f.verdict, Verdict::Regressed | Verdict::Improved)
            && !f.is_carried()
        {
            out.push(format!("equal shares with an unexplained change: {what}"));
        }
    }
    out
}
