//! `junit.xml`: one `<testcase>` per scenario, so CI systems that understand JUnit show the
//! gate per scenario: `<failure>` for regressions and budget breaches (listed), `<error>` when
//! the scenario could not be measured.
//!
//! Text is cleaned of characters XML 1.0 forbids here; the template's autoescape does the
//! entity escaping.

use super::format::{ci, metric_str, pct, pp};
use super::render_template;
use super::sanitize::xml_clean;
use super::ReportError;
use crate::compare::{gated_regressions, ComparisonReport, ScenarioStatus, Verdict};
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/junit.xml");
const TEXT_CHARS: usize = 4_000;

#[derive(Serialize)]
struct Case {
    name: String,
    time: String,
    status: &'static str,
    message: String,
    details: Vec<String>,
    out: String,
}

pub fn render(report: &ComparisonReport) -> Result<String, ReportError> {
    let clean = |s: &str| xml_clean(s, TEXT_CHARS);
    let mut cases = Vec::new();
    for s in &report.scenarios {
        let mut details = Vec::new();
        // Regressions are counted by cause: a slowed function once, its carrying callers
        // listed under it but not counted again.
        let regressions = gated_regressions(s).len();
        let mut breaches = 0usize;
        let mut regressed: Vec<&crate::compare::FunctionComparison> = s
            .functions
            .iter()
            .filter(|f| f.gated && f.verdict == Verdict::Regressed)
            .collect();
        let carrier = |f: &crate::compare::FunctionComparison| {
            f.is_carried() && f.carried_by != [f.function.clone()]
        };
        regressed.sort_by_key(|f| carrier(f));
        for f in regressed {
            let carried = if carrier(f) {
                let names: Vec<&str> = f.carried_by.iter().map(|g| g.name.as_str()).collect();
                format!(" (carried by {}; not counted again)", names.join(", "))
            } else {
                String::new()
            };
            details.push(clean(&format!(
                "regressed: {} ({}) {}: {} -> {}, raw {}, change {} {}{carried}",
                f.function.name,
                f.function.file,
                metric_str(f.metric),
                pct(f.baseline.mean),
                pct(f.candidate.mean),
                pp(f.raw_delta),
                pp(f.delta),
                ci(f.ci_low, f.ci_high)
            )));
        }
        for f in s.functions.iter().filter(|f| f.gated) {
            if f.budget_breached {
                breaches += 1;
                details.push(clean(&format!(
                    "budget breached: {} ({}) {}: {} > budget {}",
                    f.function.name,
                    f.function.file,
                    metric_str(f.metric),
                    pct(f.candidate.mean),
                    f.budget.map(pct).unwrap_or_else(|| "?".into())
                )));
            }
        }
        let (status, message) = match s.status {
            ScenarioStatus::Pass => ("pass", String::new()),
            ScenarioStatus::Fail => (
                "fail",
                format!(
                    "{regressions} regression{}, {breaches} budget breach{}",
                    if regressions == 1 { "" } else { "s" },
                    if breaches == 1 { "" } else { "es" }
                ),
            ),
            ScenarioStatus::NoBaselineForMachine => (
                "skipped",
                clean(
                    s.warnings
                        .first()
                        .map(String::as_str)
                        .unwrap_or("no baseline for this machine class"),
                ),
            ),
            ScenarioStatus::Error => {
                details = s.errors.iter().map(|e| clean(e)).collect();
                (
                    "error",
                    clean(
                        s.errors
                            .first()
                            .map(String::as_str)
                            .unwrap_or("scenario errored"),
                    ),
                )
            }
        };
        let out = s
            .warnings
            .iter()
            .map(|w| format!("warning: {}", clean(w)))
            .collect::<Vec<_>>()
            .join("\n");
        cases.push(Case {
            name: clean(&s.scenario),
            time: "0".into(),
            status,
            message,
            details,
            out,
        });
    }
    let failures = cases.iter().filter(|c| c.status == "fail").count();
    let errors = cases.iter().filter(|c| c.status == "error").count();
    let skipped = cases.iter().filter(|c| c.status == "skipped").count();
    render_template(
        "junit.xml",
        TEMPLATE,
        minijinja::context! {
            suite => xml_clean(&format!("tachygate: {}", report.label), 500),
            timestamp => report.created.format("%Y-%m-%dT%H:%M:%S").to_string(),
            tests => cases.len(),
            failures,
            errors,
            skipped,
            cases,
        },
    )
}
