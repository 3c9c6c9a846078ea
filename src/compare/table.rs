//! The compact text table `check` / `compare` / `ab` print per scenario: what failed the gate
//! first, then other changes; `--verbose` adds unchanged and inconclusive rows.
//!
//! Shares are shown as measured (raw means); `delta` and its interval are after the
//! compositional correction, in percentage points of the baseline's samples - so a row can
//! read `12.0% -> 10.1%, delta +0.0`: the function did the same work, its share shrank because
//! something else grew.

use super::model::*;
use std::fmt::Write as _;

/// Widest function column; longer names keep their end (the function name).
const NAME_WIDTH: usize = 56;

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn pp(x: f64) -> String {
    format!("{:+.1}", x * 100.0)
}

fn shorten(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n - (width - 1)).collect();
    format!("…{tail}")
}

/// Rank for ordering rows: gate failures first, then changes, then the rest.
fn rank(f: &FunctionComparison) -> u8 {
    match (f.verdict, f.gated, f.budget_breached) {
        (_, _, true) => 0,
        (Verdict::Regressed, true, _) => 0,
        (Verdict::Regressed, false, _) => 1,
        (Verdict::Improved, _, _) => 2,
        (Verdict::New | Verdict::Gone, _, _) => 3,
        (Verdict::Inconclusive, _, _) => 4,
        (Verdict::Unchanged, _, _) => 5,
    }
}

fn shown(f: &FunctionComparison, verbose: bool) -> bool {
    verbose || rank(f) <= 3
}

fn verdict_text(f: &FunctionComparison) -> String {
    let mut v = f.verdict.as_str().to_uppercase();
    if f.verdict == Verdict::Regressed && !f.gated {
        v.push_str(" (not gated)");
    }
    if let Some(n) = f.runs_needed {
        let _ = write!(v, " (~{n} runs/side)");
    }
    if f.budget_breached {
        let _ = write!(
            v,
            "{}BUDGET {} > {}",
            if f.verdict == Verdict::Unchanged {
                " "
            } else {
                ", "
            },
            pct(f.candidate.mean),
            pct(f.budget.unwrap_or(0.0))
        );
    }
    v
}

/// One scenario as text.
pub fn render_scenario(s: &ScenarioComparison, verbose: bool) -> String {
    let mut out = String::new();
    let status = match s.status {
        ScenarioStatus::Pass => "pass",
        ScenarioStatus::Fail => "FAIL",
        ScenarioStatus::Error => "ERROR",
        ScenarioStatus::NoBaselineForMachine => "NO BASELINE FOR THIS MACHINE (not compared)",
    };
    let runs = |side: &Option<SideInfo>| side.as_ref().map_or(0, |x| x.runs);
    if s.status == ScenarioStatus::NoBaselineForMachine {
        let _ = writeln!(out, "{}: {status}", s.scenario);
    } else {
        let _ = writeln!(
            out,
            "{}: {status}  ({} baseline / {} candidate runs, {:.0}% intervals)",
            s.scenario,
            runs(&s.baseline),
            runs(&s.candidate),
            s.confidence * 100.0
        );
    }
    for e in &s.errors {
        let _ = writeln!(out, "  error: {e}");
    }
    let mut rows: Vec<&FunctionComparison> =
        s.functions.iter().filter(|f| shown(f, verbose)).collect();
    rows.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.delta.abs().total_cmp(&a.delta.abs()))
            .then(a.function.cmp(&b.function))
    });
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "  {:<NAME_WIDTH$} {:<6} {:>8} {:>9}  {:<22} verdict",
            "function", "metric", "baseline", "candidate", "delta [CI] pp"
        );
        for f in &rows {
            let metric = match f.metric {
                Metric::SelfShare => "self",
                Metric::Cumulative => "cum",
            };
            let delta = format!("{} [{}, {}]", pp(f.delta), pp(f.ci_low), pp(f.ci_high));
            let _ = writeln!(
                out,
                "  {:<NAME_WIDTH$} {:<6} {:>8} {:>9}  {:<22} {}",
                shorten(&f.function.to_string(), NAME_WIDTH),
                metric,
                pct(f.baseline.mean),
                pct(f.candidate.mean),
                delta,
                verdict_text(f)
            );
        }
    }
    let hidden: Vec<&FunctionComparison> =
        s.functions.iter().filter(|f| !shown(f, verbose)).collect();
    if !hidden.is_empty() {
        let inconclusive = hidden
            .iter()
            .filter(|f| f.verdict == Verdict::Inconclusive)
            .count();
        let _ = writeln!(
            out,
            "  ({} unchanged, {} inconclusive rows not shown; --verbose shows all)",
            hidden.len() - inconclusive,
            inconclusive
        );
    } else if rows.is_empty()
        && s.errors.is_empty()
        && s.status != ScenarioStatus::NoBaselineForMachine
    {
        let _ = writeln!(out, "  (no functions)");
    }
    for w in &s.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
    out
}

/// The whole report as text, ending with the overall status line.
pub fn render(report: &ComparisonReport, verbose: bool) -> String {
    let mut out = String::new();
    for s in &report.scenarios {
        out.push_str(&render_scenario(s, verbose));
        out.push('\n');
    }
    let count = |st: ScenarioStatus| report.scenarios.iter().filter(|s| s.status == st).count();
    let _ = writeln!(
        out,
        "{}: {} scenario(s): {} pass, {} fail, {} error{}",
        match report.status {
            OverallStatus::Pass => "PASS",
            OverallStatus::Fail => "FAIL",
            OverallStatus::Error => "ERROR",
        },
        report.scenarios.len(),
        count(ScenarioStatus::Pass),
        count(ScenarioStatus::Fail),
        count(ScenarioStatus::Error),
        match count(ScenarioStatus::NoBaselineForMachine) {
            0 => String::new(),
            n => format!(", {n} without a baseline for this machine"),
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::FunctionId;

    fn row(name: &str, verdict: Verdict, gated: bool, delta: f64) -> FunctionComparison {
        let side = ShareSummary {
            runs: 5,
            mean: 0.2,
            sd: 0.01,
            per_run: vec![0.2; 5],
        };
        FunctionComparison {
            function: FunctionId::new("app.py", name),
            metric: Metric::SelfShare,
            gated,
            baseline: side.clone(),
            candidate: side,
            delta,
            ci_low: delta - 0.005,
            ci_high: delta + 0.005,
            raw_delta: delta,
            p_value: 0.001,
            p_adjusted: 0.01,
            min_effect: 0.01,
            verdict,
            runs_needed: None,
            budget: None,
            budget_breached: false,
        }
    }

    fn scenario(functions: Vec<FunctionComparison>) -> ScenarioComparison {
        ScenarioComparison {
            scenario: "demo".into(),
            status: ScenarioStatus::Fail,
            baseline: None,
            candidate: None,
            warnings: vec!["CPU model differs".into()],
            errors: vec![],
            confidence: 0.95,
            functions,
            flame: None,
            reproduce: None,
        }
    }

    #[test]
    fn gated_regressions_come_first_and_unchanged_are_hidden() {
        let s = scenario(vec![
            row("improved_fn", Verdict::Improved, true, -0.05),
            row("quiet_fn", Verdict::Unchanged, true, 0.0),
            row("ungated_fn", Verdict::Regressed, false, 0.09),
            row("hot_fn", Verdict::Regressed, true, 0.03),
        ]);
        let text = render_scenario(&s, false);
        let pos = |n: &str| text.find(n).unwrap_or(usize::MAX);
        assert!(pos("hot_fn") < pos("ungated_fn"), "{text}");
        assert!(pos("ungated_fn") < pos("improved_fn"), "{text}");
        assert!(!text.contains("quiet_fn"), "{text}");
        assert!(text.contains("1 unchanged, 0 inconclusive"), "{text}");
        assert!(text.contains("+3.0 [+2.5, +3.5]"), "{text}");
        assert!(text.contains("REGRESSED (not gated)"), "{text}");
        assert!(text.contains("warning: CPU model differs"), "{text}");
        let verbose = render_scenario(&s, true);
        assert!(verbose.contains("quiet_fn"), "{verbose}");
    }

    #[test]
    fn long_names_keep_their_end() {
        let long = "x".repeat(100) + ":the_function";
        let s = shorten(&long, 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.ends_with(":the_function"));
    }
}
