//! The compact text table `check` / `compare` / `ab` print per scenario: what failed the gate
//! first, then other changes; `--verbose` adds unchanged and inconclusive rows.
//!
//! Shares are shown as measured (raw means) with their raw difference, beside the normalised
//! change and its interval (after the compositional correction, in percentage points of the
//! baseline's samples) - so a row reads `12.0% -> 10.1%, raw -1.9, normalised +0.0`: the
//! function did the same work, its share shrank because something else grew. A line under
//! the table says so. Callers that merely carry a culprit's change are indented under it.

use crate::compare::*;
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
    let mut v = f.label().to_uppercase();
    if f.verdict == Verdict::Regressed && !f.gated {
        v.push_str(" (not gated)");
    }
    if let Some(n) = f.runs_needed {
        let _ = write!(v, " (~{n} runs/side)");
    }
    if f.is_carried() && f.carried_by != [f.function.clone()] {
        let names: Vec<&str> = f.carried_by.iter().map(|g| g.name.as_str()).collect();
        let _ = write!(v, ", carried by {}", names.join(", "));
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

/// The line under every table: what the two change columns mean.
pub const DELTA_LEGEND: &str = "raw = candidate share - baseline share; normalised = change of the function's own cost in points of the baseline's total (when one function grows every other share shrinks; normalising removes that), with its interval";

/// A carrying caller: shown indented under the function whose change it carries.
fn is_carrier(f: &FunctionComparison) -> bool {
    f.is_carried() && f.carried_by != [f.function.clone()]
}

/// "1 regression (gamma +9.1 pp; 2 callers carry it)": changes counted by cause.
pub fn cause_summary(s: &ScenarioComparison) -> Option<String> {
    let causes = causes(s);
    if causes.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for (v, one, many) in [
        (Verdict::Regressed, "regression", "regressions"),
        (Verdict::Improved, "improvement", "improvements"),
    ] {
        let list: Vec<&Cause> = causes.iter().filter(|c| c.verdict == v).collect();
        if list.is_empty() {
            continue;
        }
        let carriers: usize = list.iter().map(|c| c.carriers.len()).sum();
        let names: Vec<String> = list
            .iter()
            .take(3)
            .map(|c| format!("{} {} pp", c.function.name, pp(c.delta)))
            .collect();
        let more = if list.len() > 3 { ", …" } else { "" };
        let carried = match carriers {
            0 => String::new(),
            1 => "; 1 caller carries it".to_string(),
            n => format!("; {n} callers carry it"),
        };
        parts.push(format!(
            "{} {} ({}{more}{carried})",
            list.len(),
            if list.len() == 1 { one } else { many },
            names.join(", ")
        ));
    }
    Some(parts.join(", "))
}

fn write_row(out: &mut String, f: &FunctionComparison, indent: &str) {
    let metric = match f.metric {
        Metric::SelfShare => "self",
        Metric::Cumulative => "cum",
    };
    let delta = format!("{} [{}, {}]", pp(f.delta), pp(f.ci_low), pp(f.ci_high));
    let width = NAME_WIDTH - indent.chars().count();
    let _ = writeln!(
        out,
        "  {indent}{:<width$} {:<6} {:>8} {:>9} {:>6}  {:<22} {}",
        shorten(&f.function.to_string(), width),
        metric,
        pct(f.baseline.mean),
        pct(f.candidate.mean),
        pp(f.raw_delta),
        delta,
        verdict_text(f)
    );
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
    if let Some(c) = cause_summary(s) {
        let _ = writeln!(out, "  {c}");
    }
    let mut rows: Vec<&FunctionComparison> = s
        .functions
        .iter()
        .filter(|f| shown(f, verbose) && !is_carrier(f))
        .collect();
    rows.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.delta.abs().total_cmp(&a.delta.abs()))
            .then(a.function.cmp(&b.function))
    });
    let causes = causes(s);
    let mut carriers: Vec<&FunctionComparison> =
        s.functions.iter().filter(|f| is_carrier(f)).collect();
    if !rows.is_empty() || !carriers.is_empty() {
        let _ = writeln!(
            out,
            "  {:<NAME_WIDTH$} {:<6} {:>8} {:>9} {:>6}  {:<22} verdict",
            "function", "metric", "baseline", "candidate", "raw", "normalised [CI] pp"
        );
        for (i, f) in rows.iter().enumerate() {
            write_row(&mut out, f, "");
            // After a cause's last own row, the callers that carry its change.
            let last_of_function = rows[i + 1..].iter().all(|g| g.function != f.function);
            if !last_of_function {
                continue;
            }
            let Some(cause) = causes.iter().find(|c| c.function == f.function) else {
                continue;
            };
            let mut mine: Vec<&FunctionComparison> = carriers
                .iter()
                .copied()
                .filter(|g| cause.carriers.contains(&g.function))
                .collect();
            mine.sort_by(|a, b| b.candidate.mean.total_cmp(&a.candidate.mean));
            carriers.retain(|g| !cause.carriers.contains(&g.function));
            for g in mine {
                write_row(&mut out, g, "↳ ");
            }
        }
        // Carriers whose cause is not shown (cannot happen with the default ranks; kept so
        // that no row disappears).
        for g in carriers {
            write_row(&mut out, g, "↳ ");
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
    if !s.functions.is_empty() {
        let _ = writeln!(out, "  {DELTA_LEGEND}");
    }
    for w in &s.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
    out
}

/// The whole report as text, ending with the overall status line (which counts regressions
/// by cause: one slowed function is one regression, however many callers carry it).
pub fn render(report: &ComparisonReport, verbose: bool) -> String {
    let mut out = String::new();
    for s in &report.scenarios {
        out.push_str(&render_scenario(s, verbose));
        out.push('\n');
    }
    let count = |st: ScenarioStatus| report.scenarios.iter().filter(|s| s.status == st).count();
    let causes: Vec<Cause> = report
        .scenarios
        .iter()
        .flat_map(gated_regressions)
        .collect();
    let carriers: usize = causes.iter().map(|c| c.carriers.len()).sum();
    let regressions = match (causes.len(), carriers) {
        (0, _) => String::new(),
        (n, 0) => format!("; {n} gated regression{}", if n == 1 { "" } else { "s" }),
        (n, k) => format!(
            "; {n} gated regression{} ({k} carrying caller{} not counted)",
            if n == 1 { "" } else { "s" },
            if k == 1 { "" } else { "s" }
        ),
    };
    let _ = writeln!(
        out,
        "{}: {} scenario(s): {} pass, {} fail, {} error{regressions}{}",
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
            note: None,
            carried_by: Vec::new(),
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
    fn carriers_are_indented_under_their_culprit_and_not_counted() {
        let culprit = row("leaf", Verdict::Regressed, true, 0.05);
        let mut culprit_cum = culprit.clone();
        culprit_cum.metric = Metric::Cumulative;
        culprit_cum.carried_by = vec![culprit.function.clone()];
        let mut caller = row("caller", Verdict::Regressed, true, 0.05);
        caller.metric = Metric::Cumulative;
        caller.carried_by = vec![culprit.function.clone()];
        let other = row("other", Verdict::Regressed, true, 0.02);
        let mut small = row("small", Verdict::Unchanged, true, 0.004);
        small.note = Some(RowNote::BelowMinEffect);
        let s = scenario(vec![caller, other, culprit, culprit_cum, small]);
        let text = render_scenario(&s, true);
        let lines: Vec<&str> = text.lines().collect();
        let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
        // The carrier follows the culprit's last row, indented.
        assert_eq!(at("app.py:caller"), at("app.py:leaf") + 2, "{text}");
        assert!(lines[at("app.py:caller")].contains("↳ "), "{text}");
        assert!(text.contains("carried by leaf"), "{text}");
        assert!(text.contains("BELOW MIN_EFFECT"), "{text}");
        assert!(
            text.contains("2 regressions (leaf +5.0 pp, other +2.0 pp; 1 caller carries it)"),
            "{text}"
        );
        assert!(text.contains(DELTA_LEGEND), "{text}");
        let report = ComparisonReport {
            schema_version: REPORT_SCHEMA_VERSION,
            tachygate_version: "t".into(),
            label: "l".into(),
            created: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            status: OverallStatus::Fail,
            scenarios: vec![s],
            source_url_template: None,
        };
        let last = render(&report, false);
        assert!(
            last.trim_end()
                .ends_with("; 2 gated regressions (1 carrying caller not counted)"),
            "{last}"
        );
    }

    #[test]
    fn long_names_keep_their_end() {
        let long = "x".repeat(100) + ":the_function";
        let s = shorten(&long, 20);
        assert_eq!(s.chars().count(), 20);
        assert!(s.ends_with(":the_function"));
    }
}
