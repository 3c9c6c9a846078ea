//! `summary.md`: GitHub-flavoured Markdown for PR comments and job summaries. Verdict first,
//! then the gated changes, then per-scenario details folded in `<details>`.
//!
//! Every string from the report goes through [`md_text`] (Markdown has no autoescape) and
//! the whole document stays under [`MARKDOWN_MAX_CHARS`]: tables are cut, with a note
//! saying how many rows are left out and where to find them.

use super::sanitize::{clean_line, md_html_text, md_text};
use super::view::{report_view, ReportView, RowView, ScenarioView, MESSAGE_CHARS};
use super::{render_template, ReportError, MARKDOWN_MAX_CHARS};
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/summary.md");
const NAME_CHARS: usize = 120;

#[derive(Serialize)]
struct MdRow {
    scenario: String,
    name: String,
    file: String,
    metric: &'static str,
    base: String,
    cand: String,
    raw: String,
    delta: String,
    ci: String,
    p: String,
    verdict: String,
}

#[derive(Serialize)]
struct MdSide {
    role: &'static str,
    source: String,
    runs: usize,
    samples: String,
    python: String,
    cpu: String,
    commit: String,
    host: String,
    date: String,
}

#[derive(Serialize)]
struct MdScenario {
    name: String,
    /// For the `<summary>` line (raw HTML: Markdown escapes would show).
    name_html: String,
    status: String,
    counts: String,
    errors: Vec<String>,
    warnings: Vec<String>,
    rows: Vec<MdRow>,
    rows_total: usize,
    rows_omitted: usize,
    sides: Vec<MdSide>,
    reproduce: Option<String>,
    fence: String,
    confidence: String,
    min_effect: String,
    causes: Vec<String>,
}

#[derive(Serialize)]
struct MdView {
    title: String,
    label: String,
    created: String,
    version: String,
    changes: Vec<MdRow>,
    changes_total: usize,
    changes_omitted: usize,
    scenarios: Vec<MdScenario>,
    scenarios_omitted: usize,
    truncated: bool,
    confidence: String,
    delta_legend: &'static str,
}

fn status_badge(s: &str) -> &'static str {
    match s {
        "pass" => "✅ pass",
        "fail" => "❌ fail",
        "no_baseline_for_machine" => "⏭️ no baseline for this machine",
        _ => "⚠️ error",
    }
}

fn verdict_badge(r: &RowView) -> String {
    let mut out = match r.label {
        "regressed" => "🔴 regressed",
        "improved" => "🟢 improved",
        "inconclusive" => "⚪ inconclusive",
        "new" => "🆕 new",
        "gone" => "➖ gone",
        "below min_effect" => "below min_effect",
        "not tested" => "not tested",
        _ => "unchanged",
    }
    .to_string();
    if let Some(by) = &r.carried_by {
        out.push_str(&format!(", carried by {}", md_text(by, NAME_CHARS)));
    }
    if r.breached {
        out.push_str(", 💸 over budget");
    }
    out
}

fn md_row(scenario: &str, r: &RowView) -> MdRow {
    MdRow {
        scenario: md_text(scenario, NAME_CHARS),
        // A carrying caller is marked so it reads as grouped under the row above it.
        name: format!(
            "{}{}",
            if r.carried_by.is_some() { "↳ " } else { "" },
            md_text(&r.name_full, NAME_CHARS)
        ),
        file: md_text(&r.file_full, NAME_CHARS),
        metric: r.metric,
        base: r.base_s.clone(),
        cand: r.cand_s.clone(),
        raw: r.raw_s.clone(),
        delta: r.delta_s.clone(),
        ci: r.ci_s.clone(),
        p: r.p_s.clone(),
        verdict: verdict_badge(r),
    }
}

/// A code fence longer than any backtick run in `s`, so `s` cannot close it.
fn fence_for(s: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

fn side(s: &super::view::SideView) -> MdSide {
    MdSide {
        role: s.role,
        source: md_text(&s.source, NAME_CHARS),
        runs: s.runs,
        samples: s.samples.clone(),
        python: md_text(&s.python, NAME_CHARS),
        cpu: md_text(&s.cpu, NAME_CHARS),
        commit: md_text(&s.commit, 60),
        host: md_text(&s.host, 60),
        date: s.date.clone(),
    }
}

/// Limits used when the document is too long: (rows per table, messages per list, scenarios).
const LIMITS: &[(usize, usize, usize)] = &[
    (usize::MAX, usize::MAX, usize::MAX),
    (200, 30, usize::MAX),
    (100, 20, 200),
    (50, 10, 100),
    (20, 5, 50),
    (10, 3, 20),
    (0, 1, 10),
];

fn scenario(s: &ScenarioView, rows: usize, msgs: usize) -> MdScenario {
    let gated: Vec<&RowView> = s.rows.iter().filter(|r| r.gated).collect();
    let limit = |v: &[String]| -> Vec<String> {
        let mut out: Vec<String> = v
            .iter()
            .take(msgs)
            .map(|m| md_text(m, MESSAGE_CHARS))
            .collect();
        if v.len() > msgs {
            out.push(format!("… {} more in report.json", v.len() - msgs));
        }
        out
    };
    let reproduce = s.reproduce.as_deref().map(|r| clean_line(r, MESSAGE_CHARS));
    MdScenario {
        name: md_text(&s.name, NAME_CHARS),
        name_html: md_html_text(&s.name, NAME_CHARS),
        status: status_badge(s.status).to_string(),
        counts: s
            .counts
            .iter()
            .map(|c| format!("{} {}", c.count, c.verdict))
            .collect::<Vec<_>>()
            .join(" · "),
        errors: limit(&s.errors),
        warnings: limit(&s.warnings),
        rows: gated
            .iter()
            .take(rows)
            .map(|r| md_row(&s.name, r))
            .collect(),
        rows_total: gated.len(),
        rows_omitted: gated.len().saturating_sub(rows),
        sides: s.sides.iter().map(side).collect(),
        fence: fence_for(reproduce.as_deref().unwrap_or("")),
        reproduce,
        confidence: s.confidence.clone(),
        min_effect: s.min_effect.clone(),
        causes: s
            .causes
            .iter()
            .take(rows.max(10))
            .map(|c| {
                let mut t = format!(
                    "{} **{}** ({}) {}",
                    c.verdict,
                    md_text(&c.name, NAME_CHARS),
                    md_text(&c.file, NAME_CHARS),
                    c.delta_s
                );
                if !c.gated {
                    t.push_str(", not gated");
                }
                if !c.carriers.is_empty() {
                    let names: Vec<String> =
                        c.carriers.iter().map(|k| md_text(k, NAME_CHARS)).collect();
                    t.push_str(&format!(
                        "; carried by its callers (not counted again): {}",
                        names.join(", ")
                    ));
                }
                t
            })
            .collect(),
    }
}

fn md_view(v: &ReportView, (rows, msgs, scen): (usize, usize, usize), truncated: bool) -> MdView {
    // Changes worth a reviewer's attention: gated and not unchanged, or over budget.
    let changes: Vec<MdRow> = v
        .scenarios
        .iter()
        .flat_map(|s| {
            s.rows
                .iter()
                .filter(|r| r.gated && (r.verdict != "unchanged" || r.breached))
                .map(move |r| (s, r))
        })
        .map(|(s, r)| md_row(&s.name, r))
        .collect();
    let changes_total = changes.len();
    let changes: Vec<MdRow> = changes.into_iter().take(rows.max(10)).collect();
    let title = match v.status {
        "pass" => format!("✅ tachygate: pass — {}", md_text(&v.headline, 200)),
        "fail" => format!("❌ tachygate: regression — {}", md_text(&v.headline, 200)),
        _ => format!("⚠️ tachygate: error — {}", md_text(&v.headline, 200)),
    };
    let confidence = v
        .scenarios
        .first()
        .map(|s| s.confidence.clone())
        .unwrap_or_else(|| "95%".into());
    MdView {
        title,
        label: md_text(&v.label, 200),
        created: v.created.clone(),
        version: md_text(&v.version, 40),
        changes_omitted: changes_total - changes.len(),
        changes_total,
        changes,
        scenarios: v
            .scenarios
            .iter()
            .take(scen)
            .map(|s| scenario(s, rows, msgs))
            .collect(),
        scenarios_omitted: v.scenarios.len().saturating_sub(scen),
        truncated,
        confidence,
        delta_legend: super::view::DELTA_LEGEND,
    }
}

pub fn render(report: &crate::compare::ComparisonReport) -> Result<String, ReportError> {
    let view = report_view(report);
    let mut last = String::new();
    for (i, &limits) in LIMITS.iter().enumerate() {
        let md = render_template("summary.md", TEMPLATE, md_view(&view, limits, i > 0))?;
        if md.chars().count() <= MARKDOWN_MAX_CHARS {
            return Ok(md);
        }
        last = md;
    }
    // Still too long (thousands of scenarios): cut at a line boundary and say so.
    let note = "\n\n*Summary cut at 60,000 characters: see `index.html` or `report.json` for everything.*\n";
    let budget = MARKDOWN_MAX_CHARS - note.chars().count();
    let mut cut: String = last.chars().take(budget).collect();
    if let Some(nl) = cut.rfind('\n') {
        cut.truncate(nl);
    }
    cut.push_str(note);
    Ok(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fence_is_longer_than_any_backtick_run() {
        assert_eq!(fence_for("echo hi"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }
}
