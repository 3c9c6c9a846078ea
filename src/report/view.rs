//! The view model every renderer starts from: the report's numbers formatted (shares in %,
//! changes in percentage points), rows sorted, untrusted strings cleaned and cut, bar
//! geometry computed. Templates then only lay it out.

use super::format::{ci, metric_str, pct, pp, pvalue};
use super::sanitize::{clean_line, url_path};
use crate::compare::{
    causes, gated_regressions, Cause, ComparisonReport, FunctionComparison, Metric, OverallStatus,
    ScenarioComparison, ScenarioStatus, SideInfo, Verdict,
};
use serde::Serialize;

/// Longest name shown in a table cell; the full name (up to [`TITLE_CHARS`]) is in a tooltip.
pub const NAME_CHARS: usize = 160;
pub const TITLE_CHARS: usize = 2_000;
/// Longest warning, error or command shown.
pub const MESSAGE_CHARS: usize = 2_000;
/// At most this many warnings/errors per scenario are shown; the rest are counted.
pub const MAX_MESSAGES: usize = 50;

#[derive(Debug, Serialize)]
pub struct ReportView {
    pub label: String,
    pub created: String,
    pub version: String,
    pub status: &'static str,
    pub headline: String,
    pub scenarios: Vec<ScenarioView>,
    pub n_scenarios: usize,
    pub n_failed: usize,
    pub n_errored: usize,
    pub n_regressions: usize,
    pub n_breaches: usize,
}

#[derive(Debug, Serialize)]
pub struct ScenarioView {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub confidence: String,
    pub sides: Vec<SideView>,
    pub settings: Vec<SettingView>,
    pub counts: Vec<CountView>,
    pub rows: Vec<RowView>,
    /// Gated regression causes (carrying callers not counted).
    pub n_regressions: usize,
    pub n_breaches: usize,
    /// What changed, by cause, each with the callers that carry it.
    pub causes: Vec<CauseView>,
    /// What the two change columns mean.
    pub delta_legend: &'static str,
    pub min_effect: String,
    pub reproduce: Option<String>,
    /// Flame data as JSON safe to embed in a `<script>` element.
    pub flame_json: Option<String>,
    pub flame_nodes: usize,
    pub flame_pruned: bool,
}

#[derive(Debug, Serialize)]
pub struct CauseView {
    pub verdict: &'static str,
    pub name: String,
    pub file: String,
    pub delta_s: String,
    pub gated: bool,
    /// Carrying callers' names.
    pub carriers: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SideView {
    pub role: &'static str,
    pub source: String,
    pub runs: usize,
    pub samples: String,
    pub python: String,
    pub cpu: String,
    pub commit: String,
    pub host: String,
    pub date: String,
}

#[derive(Debug, Serialize)]
pub struct SettingView {
    pub key: &'static str,
    pub baseline: String,
    pub candidate: String,
    pub differs: bool,
}

#[derive(Debug, Serialize)]
pub struct CountView {
    pub verdict: &'static str,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct RowView {
    pub metric: &'static str,
    pub name: String,
    /// The longer name for a tooltip, only when `name` was cut.
    pub name_title: Option<String>,
    pub file: String,
    pub file_title: Option<String>,
    /// Up to [`TITLE_CHARS`], for renderers with their own limits (Markdown).
    pub name_full: String,
    pub file_full: String,
    pub href: Option<String>,
    pub gated: bool,
    pub base: f64,
    pub base_s: String,
    pub cand: f64,
    pub cand_s: String,
    pub delta: f64,
    pub delta_s: String,
    /// Raw change of the mean share (before normalisation).
    pub raw_s: String,
    pub ci_s: String,
    pub p: f64,
    pub p_s: String,
    /// Verdict key (CSS class, sorting).
    pub verdict: &'static str,
    /// What the reader sees: `below min_effect` rather than `unchanged` beside an interval
    /// that excludes zero.
    pub label: &'static str,
    /// For a carrying caller: the names of the functions whose change it carries.
    pub carried_by: Option<String>,
    pub rank: u8,
    pub budget_s: Option<String>,
    pub breached: bool,
    pub runs_needed: Option<u32>,
    pub bar: Bar,
}

/// Geometry of the interval bar, in a 0..100 wide viewBox, as short strings.
#[derive(Debug, Serialize)]
pub struct Bar {
    pub zero: String,
    pub band_x: String,
    pub band_w: String,
    pub ci_x: String,
    pub ci_w: String,
    pub pt: String,
}

/// Sort rank: what a reviewer must look at first.
fn rank(f: &FunctionComparison) -> u8 {
    if f.budget_breached {
        return 0;
    }
    match f.verdict {
        Verdict::Regressed => 0,
        Verdict::New => 1,
        Verdict::Inconclusive => 2,
        Verdict::Improved => 3,
        Verdict::Gone => 4,
        Verdict::Unchanged => 5,
    }
}

fn status_str(s: ScenarioStatus) -> &'static str {
    match s {
        ScenarioStatus::Pass => "pass",
        ScenarioStatus::Fail => "fail",
        ScenarioStatus::Error => "error",
        ScenarioStatus::NoBaselineForMachine => "no_baseline_for_machine",
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn line(s: &str) -> String {
    clean_line(s, NAME_CHARS)
}

/// Cleans messages; keeps at most [`MAX_MESSAGES`] and says how many were left out.
fn messages(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = list
        .iter()
        .take(MAX_MESSAGES)
        .map(|m| clean_line(m, MESSAGE_CHARS))
        .collect();
    if list.len() > MAX_MESSAGES {
        out.push(format!(
            "… and {} more (see report.json)",
            list.len() - MAX_MESSAGES
        ));
    }
    out
}

fn side_view(role: &'static str, s: &SideInfo) -> SideView {
    let e = &s.environment;
    let commit = match (&e.git_commit, e.git_dirty) {
        (Some(c), Some(true)) => format!("{} (dirty)", line(c)),
        (Some(c), _) => line(c),
        (None, _) => "—".into(),
    };
    SideView {
        role,
        source: line(&s.source),
        runs: s.runs,
        samples: thousands(s.total_samples),
        python: line(&e.python_version),
        cpu: if e.cores > 0 {
            format!("{} ({} cores)", line(&e.cpu_model), e.cores)
        } else {
            line(&e.cpu_model)
        },
        commit,
        host: line(&e.hostname),
        date: s.created.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn settings(b: Option<&SideInfo>, c: Option<&SideInfo>) -> Vec<SettingView> {
    let on = |x: bool| if x { "on" } else { "off" }.to_string();
    let rows = |s: &SideInfo| -> Vec<(&'static str, String)> {
        let p = &s.sampler;
        vec![
            ("mode", p.mode.to_string()),
            ("rate", format!("{} Hz", p.rate_hz)),
            (
                "duration",
                p.duration_s
                    .map(|d| format!("{d} s"))
                    .unwrap_or_else(|| "to completion".into()),
            ),
            ("all threads", on(p.all_threads)),
            ("native frames", on(p.native)),
            ("GC frames", on(p.gc)),
            ("opcodes", on(p.opcodes)),
            ("blocking", on(p.blocking)),
            ("async-aware", on(p.async_aware)),
        ]
    };
    let b = b.map(rows);
    let c = c.map(rows);
    let len = b.as_ref().or(c.as_ref()).map(Vec::len).unwrap_or(0);
    (0..len)
        .filter_map(|i| {
            let bv = b.as_ref().and_then(|v| v.get(i));
            let cv = c.as_ref().and_then(|v| v.get(i));
            let key = bv.or(cv)?.0;
            let bs = bv.map(|x| x.1.clone()).unwrap_or_else(|| "—".into());
            let cs = cv.map(|x| x.1.clone()).unwrap_or_else(|| "—".into());
            Some(SettingView {
                key,
                differs: bv.is_some() && cv.is_some() && bs != cs,
                baseline: bs,
                candidate: cs,
            })
        })
        .collect()
}

/// A validated `source_url_template` (http/https only) and the commit to fill in.
struct SourceLinks<'a> {
    template: &'a str,
    commit: String,
}

impl SourceLinks<'_> {
    fn href(&self, file: &str) -> Option<String> {
        // Synthetic and portable-prefix paths (`<stdlib>/...`, `~`) are not in the repository.
        if file.is_empty()
            || file.starts_with('<')
            || file.starts_with('~')
            || file.starts_with('/')
            || file.split('/').any(|seg| seg == "..")
        {
            return None;
        }
        Some(
            self.template
                .replace("{commit}", &self.commit)
                .replace("{file}", &url_path(file)),
        )
    }
}

fn source_links<'a>(
    report: &'a ComparisonReport,
    s: &ScenarioComparison,
) -> Option<SourceLinks<'a>> {
    let t = report.source_url_template.as_deref()?.trim();
    let lower = t.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    if t.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let commit = s
        .candidate
        .as_ref()
        .and_then(|c| c.environment.git_commit.as_deref())
        .unwrap_or("HEAD");
    Some(SourceLinks {
        template: t,
        commit: url_path(commit),
    })
}

fn num(x: f64) -> String {
    let x = if x.is_finite() {
        x.clamp(0.0, 100.0)
    } else {
        50.0
    };
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Bar geometry with the axis spanning `[-scale, +scale]`.
fn bar(f: &FunctionComparison, scale: f64) -> Bar {
    let x = |v: f64| {
        if v.is_finite() && scale > 0.0 {
            50.0 + 48.0 * (v / scale).clamp(-1.0, 1.0)
        } else {
            50.0
        }
    };
    let me = if f.min_effect.is_finite() {
        f.min_effect.abs()
    } else {
        0.0
    };
    let (lo, hi) = (x(f.ci_low.min(f.ci_high)), x(f.ci_high.max(f.ci_low)));
    Bar {
        zero: num(50.0),
        band_x: num(x(-me)),
        band_w: num(x(me) - x(-me)),
        ci_x: num(lo),
        ci_w: num((hi - lo).max(0.6)),
        pt: num(x(f.delta)),
    }
}

fn row(f: &FunctionComparison, scale: f64, links: Option<&SourceLinks<'_>>) -> RowView {
    RowView {
        metric: metric_str(f.metric),
        name: line(&f.function.name),
        name_title: cut_title(&f.function.name),
        file: line(&f.function.file),
        file_title: cut_title(&f.function.file),
        name_full: clean_line(&f.function.name, TITLE_CHARS),
        file_full: clean_line(&f.function.file, TITLE_CHARS),
        href: links.and_then(|l| l.href(&f.function.file)),
        gated: f.gated,
        base: sort_key(f.baseline.mean),
        base_s: pct(f.baseline.mean),
        cand: sort_key(f.candidate.mean),
        cand_s: pct(f.candidate.mean),
        delta: sort_key(f.delta),
        delta_s: pp(f.delta),
        raw_s: pp(f.raw_delta),
        ci_s: ci(f.ci_low, f.ci_high),
        p: sort_key(f.p_adjusted),
        p_s: pvalue(f.p_adjusted),
        verdict: f.verdict.as_str(),
        label: f.label(),
        carried_by: is_carrier(f).then(|| {
            f.carried_by
                .iter()
                .map(|g| line(&g.name))
                .collect::<Vec<_>>()
                .join(", ")
        }),
        rank: rank(f),
        budget_s: f.budget.map(pct),
        breached: f.budget_breached,
        runs_needed: f.runs_needed,
        bar: bar(f, scale),
    }
}

/// A caller row that carries another function's change (not its own cause).
fn is_carrier(f: &FunctionComparison) -> bool {
    f.is_carried() && f.carried_by != [f.function.clone()]
}

/// The line under every function table.
pub const DELTA_LEGEND: &str = "Raw: candidate share − baseline share. Change: the function's own cost in percentage points of the baseline's total, after normalisation (when one function grows, every other share shrinks; normalising removes that), with its interval. Rows marked ↳ are callers whose cumulative change is carried by the function named.";

/// A number for `data-*` sort attributes: finite, and rounded so it prints short (the
/// table has thousands of rows).
fn sort_key(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e7).round() / 1e7
    } else {
        0.0
    }
}

/// The tooltip text for a cell whose display was cut, else `None` (no duplicate attribute).
fn cut_title(s: &str) -> Option<String> {
    (s.chars().count() > NAME_CHARS).then(|| clean_line(s, TITLE_CHARS))
}

/// The axis half-width for a metric's bars: the widest interval, at least 2x the noise band.
fn scale(functions: &[FunctionComparison], metric: Metric) -> f64 {
    functions
        .iter()
        .filter(|f| f.metric == metric)
        .flat_map(|f| [f.ci_low.abs(), f.ci_high.abs(), 2.0 * f.min_effect.abs()])
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1e-9)
}

/// Display order: gated rows first, then by verdict rank, then by the size of the change.
fn row_order(a: &&FunctionComparison, b: &&FunctionComparison) -> std::cmp::Ordering {
    (!a.gated, rank(a))
        .cmp(&(!b.gated, rank(b)))
        .then(b.delta.abs().total_cmp(&a.delta.abs()))
        .then(a.function.cmp(&b.function))
}

/// The rows in display order ([`row_order`]). Carrying callers go right after the rows of the
/// cause they carry - unless that would move a gated row among the ungated ones (a gated
/// caller of an ungated culprit): then it keeps its own place, still labelled as carried.
fn ordered_rows<'a>(
    s: &'a ScenarioComparison,
    all_causes: &[Cause],
) -> Vec<&'a FunctionComparison> {
    let order = row_order;
    let mut fns: Vec<&FunctionComparison> = s.functions.iter().filter(|f| !is_carrier(f)).collect();
    fns.sort_by(order);
    let mut carriers: Vec<&FunctionComparison> =
        s.functions.iter().filter(|f| is_carrier(f)).collect();
    carriers.sort_by(order);
    let mut ordered: Vec<&FunctionComparison> = fns.clone();
    for g in carriers {
        let anchor = all_causes
            .iter()
            .find(|c| c.carriers.contains(&g.function))
            .and_then(|c| ordered.iter().rposition(|r| r.function == c.function))
            .filter(|&i| ordered[i].gated == g.gated);
        let at = match anchor {
            Some(i) => {
                // After the anchor's carriers already placed.
                let mut j = i + 1;
                while j < ordered.len() && is_carrier(ordered[j]) && ordered[j].gated == g.gated {
                    j += 1;
                }
                j
            }
            None => ordered
                .iter()
                .position(|r| order(&g, r) == std::cmp::Ordering::Less)
                .unwrap_or(ordered.len()),
        };
        ordered.insert(at, g);
    }
    ordered
}

/// The verdict chips. Regressions and improvements count causes (a slowed function once, not
/// once per caller); carrying callers get their own chip so no row goes uncounted.
fn verdict_counts(s: &ScenarioComparison, all_causes: &[Cause]) -> Vec<CountView> {
    let mut counts = Vec::new();
    for v in [
        Verdict::Regressed,
        Verdict::New,
        Verdict::Inconclusive,
        Verdict::Improved,
        Verdict::Gone,
        Verdict::Unchanged,
    ] {
        let n = match v {
            Verdict::Regressed | Verdict::Improved => all_causes
                .iter()
                .filter(|c| c.gated && c.verdict == v)
                .count(),
            _ => s
                .functions
                .iter()
                .filter(|f| f.gated && f.verdict == v)
                .count(),
        };
        if n > 0 {
            counts.push(CountView {
                verdict: v.as_str(),
                count: n,
            });
        }
        if v == Verdict::Improved {
            let carried = s
                .functions
                .iter()
                .filter(|f| f.gated && is_carrier(f))
                .count();
            if carried > 0 {
                counts.push(CountView {
                    verdict: "carried",
                    count: carried,
                });
            }
        }
    }
    counts
}

pub fn scenario_view(report: &ComparisonReport, i: usize, s: &ScenarioComparison) -> ScenarioView {
    let links = source_links(report, s);
    let scales = [
        scale(&s.functions, Metric::Cumulative),
        scale(&s.functions, Metric::SelfShare),
    ];
    let all_causes = causes(s);
    let fns = ordered_rows(s, &all_causes);
    let rows: Vec<RowView> = fns
        .iter()
        .map(|f| {
            let sc = if f.metric == Metric::Cumulative {
                scales[0]
            } else {
                scales[1]
            };
            row(f, sc, links.as_ref())
        })
        .collect();
    let counts = verdict_counts(s, &all_causes);
    let cause_views: Vec<CauseView> = all_causes
        .iter()
        .map(|c| CauseView {
            verdict: c.verdict.as_str(),
            name: line(&c.function.name),
            file: line(&c.function.file),
            delta_s: pp(c.delta),
            gated: c.gated,
            carriers: c.carriers.iter().map(|g| line(&g.name)).collect(),
        })
        .collect();
    let min_effect = s
        .functions
        .iter()
        .map(|f| f.min_effect)
        .find(|m| m.is_finite())
        .map(|m| format!("±{:.2} pp", m * 100.0))
        .unwrap_or_else(|| "—".into());
    let flame = s
        .flame
        .as_ref()
        .map(|fd| super::flame::build(fd, &s.functions));
    let mut sides = Vec::new();
    if let Some(b) = &s.baseline {
        sides.push(side_view("Baseline", b));
    }
    if let Some(c) = &s.candidate {
        sides.push(side_view("Candidate", c));
    }
    ScenarioView {
        id: format!("s{i}"),
        name: line(&s.scenario),
        status: status_str(s.status),
        errors: messages(&s.errors),
        warnings: messages(&s.warnings),
        confidence: if s.confidence.is_finite() {
            format!("{:.0}%", s.confidence * 100.0)
        } else {
            "n/a".into()
        },
        sides,
        settings: settings(s.baseline.as_ref(), s.candidate.as_ref()),
        counts,
        n_regressions: gated_regressions(s).len(),
        causes: cause_views,
        delta_legend: DELTA_LEGEND,
        n_breaches: s
            .functions
            .iter()
            .filter(|f| f.gated && f.budget_breached)
            .count(),
        rows,
        min_effect,
        reproduce: s.reproduce.as_deref().map(|r| clean_line(r, MESSAGE_CHARS)),
        flame_nodes: flame.as_ref().map(|f| f.nodes).unwrap_or(0),
        flame_pruned: flame.as_ref().is_some_and(|f| f.pruned),
        flame_json: flame.map(|f| f.json),
    }
}

pub fn report_view(report: &ComparisonReport) -> ReportView {
    let scenarios: Vec<ScenarioView> = report
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| scenario_view(report, i, s))
        .collect();
    let n_failed = report
        .scenarios
        .iter()
        .filter(|s| s.status == ScenarioStatus::Fail)
        .count();
    let n_errored = report
        .scenarios
        .iter()
        .filter(|s| s.status == ScenarioStatus::Error)
        .count();
    let n_regressions = scenarios.iter().map(|s| s.n_regressions).sum();
    let n_breaches = scenarios.iter().map(|s| s.n_breaches).sum();
    let status = match report.status {
        OverallStatus::Pass => "pass",
        OverallStatus::Fail => "fail",
        OverallStatus::Error => "error",
    };
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let n_carriers: usize = report
        .scenarios
        .iter()
        .flat_map(gated_regressions)
        .map(|c| c.carriers.len())
        .sum();
    let mut parts = Vec::new();
    if n_regressions > 0 {
        let mut p = plural(n_regressions, "regression", "regressions");
        if n_carriers > 0 {
            p.push_str(&format!(
                " ({} carrying {} grouped under {})",
                n_carriers,
                if n_carriers == 1 { "caller" } else { "callers" },
                if n_regressions == 1 { "it" } else { "them" }
            ));
        }
        parts.push(p);
    }
    if n_breaches > 0 {
        parts.push(plural(n_breaches, "budget breach", "budget breaches"));
    }
    let n_no_baseline = report
        .scenarios
        .iter()
        .filter(|s| s.status == ScenarioStatus::NoBaselineForMachine)
        .count();
    if n_no_baseline > 0 {
        parts.push(format!(
            "{} without a baseline for this machine",
            plural(n_no_baseline, "scenario", "scenarios")
        ));
    }
    if n_errored > 0 {
        parts.push(format!(
            "{} could not be measured",
            plural(n_errored, "scenario", "scenarios")
        ));
    }
    let headline = match report.status {
        OverallStatus::Pass if parts.is_empty() => format!(
            "No regression in {}",
            plural(report.scenarios.len(), "scenario", "scenarios")
        ),
        OverallStatus::Pass => format!("Pass ({})", parts.join(", ")),
        OverallStatus::Fail | OverallStatus::Error if parts.is_empty() => match report.status {
            OverallStatus::Fail => "Gate failed".into(),
            _ => "A run failed".into(),
        },
        _ => parts.join(", "),
    };
    ReportView {
        label: line(&report.label),
        created: report.created.format("%Y-%m-%d %H:%M UTC").to_string(),
        version: line(&report.tachygate_version),
        status,
        headline,
        n_scenarios: scenarios.len(),
        scenarios,
        n_failed,
        n_errored,
        n_regressions,
        n_breaches,
    }
}
