//! Hand-built [`ComparisonReport`]s for tests, the benchmark and the documentation's
//! screenshot: the renderers are developed against these, independently of the comparison
//! engine. Deterministic (a fixed-seed generator, a fixed date), so snapshots are stable.
//!
//! - [`sample_report`]: realistic; three scenarios (fail, pass, error), ~40 functions,
//!   flame stacks, warnings.
//! - [`hostile_report`]: the sample with attacker-chosen names everywhere.
//! - [`large_report`]: sized for the benchmark (thousands of functions, tens of thousands of
//!   flame-graph nodes).
//!
//! [`sample_report`] ships: `tachygate report --sample` renders it (documentation, demos). The
//! others exist for tests and benchmarks only: compiled under `cfg(test)` or the `fixtures`
//! feature, which the package's dev-dependency on itself turns on for test and bench builds
//! (integration tests and `benches/` link the library without `cfg(test)`).

use crate::aggregate::{FunctionId, StackCount};
use crate::compare::{
    ComparisonReport, FlameData, FunctionComparison, Metric, OverallStatus, ScenarioComparison,
    ScenarioStatus, ShareSummary, SideInfo, Verdict, REPORT_SCHEMA_VERSION,
};
use crate::run::Environment;
use crate::scenario::SamplerSettings;
use chrono::TimeZone;
use std::collections::{BTreeMap, HashMap};

/// SplitMix64: a tiny deterministic generator (the library does not depend on `rand`).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    #[cfg(any(test, feature = "fixtures"))]
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

fn date(h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 20, h, m, 0)
        .single()
        .unwrap_or_default()
}

fn environment(commit: &str, dirty: bool) -> Environment {
    Environment {
        hostname: "ci-runner-7".into(),
        cpu_model: "AMD EPYC 7763 64-Core Processor".into(),
        cores: 4,
        python_version: "3.15.2 (main, Nov  3 2026, 10:12:44) [GCC 14.2.0]".into(),
        python_path: "/opt/tachygate/python/usr/bin/python3.15".into(),
        git_commit: Some(commit.into()),
        git_dirty: Some(dirty),
        ..Environment::default()
    }
}

fn side(source: &str, runs: usize, samples: u64, commit: &str, created: (u32, u32)) -> SideInfo {
    SideInfo {
        source: source.into(),
        runs,
        total_samples: samples,
        sampler: SamplerSettings::default(),
        environment: environment(commit, false),
        created: date(created.0, created.1),
    }
}

/// Per-run shares around `mean`, with a little spread.
fn summary(rng: &mut Rng, runs: usize, mean: f64, spread: f64) -> ShareSummary {
    let per_run: Vec<f64> = (0..runs)
        .map(|_| (mean + (rng.f64() - 0.5) * 2.0 * spread).clamp(0.0, 1.0))
        .collect();
    let n = per_run.len().max(1) as f64;
    let m = per_run.iter().sum::<f64>() / n;
    let var = per_run.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    ShareSummary {
        runs,
        mean: m,
        sd: var.sqrt(),
        per_run,
    }
}

/// The verdict rule of the fixture (the real engine's may differ): a change counts when its
/// interval excludes zero and its estimate clears `min_effect`.
fn verdict_for(base: f64, delta: f64, lo: f64, hi: f64, min_effect: f64) -> Verdict {
    if base == 0.0 && delta > 0.0 {
        Verdict::New
    } else if base > 0.0 && base + delta <= 0.0 {
        Verdict::Gone
    } else if lo > 0.0 && delta >= min_effect {
        Verdict::Regressed
    } else if hi < 0.0 && delta <= -min_effect {
        Verdict::Improved
    } else if lo > -min_effect && hi < min_effect {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// Self and cumulative shares of every function in `stacks` (fractions of all samples).
fn shares(functions: usize, stacks: &[StackCount]) -> (Vec<f64>, Vec<f64>) {
    let total: u64 = stacks.iter().map(|s| s.count).sum();
    let mut selfs = vec![0u64; functions];
    let mut cums = vec![0u64; functions];
    for s in stacks {
        if let Some(&leaf) = s.frames.last() {
            if let Some(v) = selfs.get_mut(leaf as usize) {
                *v += s.count;
            }
        }
        let mut seen = s.frames.clone();
        seen.sort_unstable();
        seen.dedup();
        for f in seen {
            if let Some(v) = cums.get_mut(f as usize) {
                *v += s.count;
            }
        }
    }
    let t = total.max(1) as f64;
    (
        selfs.iter().map(|&c| c as f64 / t).collect(),
        cums.iter().map(|&c| c as f64 / t).collect(),
    )
}

/// Builds comparisons for both metrics of every function: candidate shares from the stacks,
/// baseline shares shifted by `shift(function index, metric)`.
fn comparisons(
    rng: &mut Rng,
    functions: &[FunctionId],
    stacks: &[StackCount],
    runs: usize,
    shift: &dyn Fn(usize, Metric) -> f64,
    budgets: &HashMap<usize, f64>,
) -> Vec<FunctionComparison> {
    let (selfs, cums) = shares(functions.len(), stacks);
    let min_effect = 0.01;
    let mut out = Vec::with_capacity(functions.len() * 2);
    for (i, f) in functions.iter().enumerate() {
        for metric in [Metric::Cumulative, Metric::SelfShare] {
            let cand = match metric {
                Metric::Cumulative => cums.get(i).copied().unwrap_or(0.0),
                Metric::SelfShare => selfs.get(i).copied().unwrap_or(0.0),
            };
            // `shift` is relative: 0.25 = the candidate's share is 25 % above the baseline's.
            let base = (cand / (1.0 + shift(i, metric))).max(0.0);
            let delta = cand - base;
            let half = 0.002 + 0.15 * (cand.max(base)).sqrt() * 0.02 + rng.f64() * 0.002;
            let (lo, hi) = (delta - half, delta + half);
            let verdict = verdict_for(base, delta, lo, hi, min_effect);
            let budget = budgets
                .get(&i)
                .copied()
                .filter(|_| metric == Metric::Cumulative);
            out.push(FunctionComparison {
                function: f.clone(),
                metric,
                gated: !f.file.starts_with('<'),
                baseline: summary(rng, runs, base, half / 3.0),
                candidate: summary(rng, runs, cand, half / 3.0),
                delta,
                ci_low: lo,
                ci_high: hi,
                raw_delta: 0.0, // set from the summaries below
                p_value: if verdict == Verdict::Unchanged {
                    0.2 + rng.f64() * 0.7
                } else {
                    rng.f64() * 0.01
                },
                p_adjusted: if verdict == Verdict::Unchanged {
                    0.5 + rng.f64() * 0.5
                } else {
                    rng.f64() * 0.04
                },
                min_effect,
                verdict,
                runs_needed: (verdict == Verdict::Inconclusive).then_some(24),
                budget,
                budget_breached: budget.is_some_and(|b| cand > b),
                note: None,
                carried_by: Vec::new(),
            });
        }
    }
    for r in &mut out {
        r.raw_delta = r.candidate.mean - r.baseline.mean;
    }
    // As the engine does: root frames are not listed; notes and carrying callers.
    out.retain(|r| !crate::compare::is_root_frame(r.metric, r.baseline.mean, r.candidate.mean));
    crate::compare::annotate_rows(
        &mut out,
        Some(&FlameData {
            functions: functions.to_vec(),
            stacks: stacks.to_vec(),
        }),
    );
    out.sort_by(|a, b| {
        a.function
            .cmp(&b.function)
            .then((a.metric == Metric::Cumulative).cmp(&(b.metric == Metric::Cumulative)))
    });
    out
}

fn status_of(fns: &[FunctionComparison]) -> ScenarioStatus {
    if fns
        .iter()
        .any(|f| f.gated && (f.verdict == Verdict::Regressed || f.budget_breached))
    {
        ScenarioStatus::Fail
    } else {
        ScenarioStatus::Pass
    }
}

/// A call graph for a small web-ish application: (file, name, callees).
const APP: &[(&str, &str, &[usize])] = &[
    ("app/main.py", "<module>", &[1, 38]),
    ("app/main.py", "main", &[2, 2, 2, 3, 36]),
    ("app/server.py", "Server.handle_request", &[4, 5, 6, 12]),
    ("app/server.py", "Server.warmup", &[21, 24]),
    ("app/routing.py", "Router.dispatch", &[7, 8, 9]),
    ("app/middleware.py", "auth_middleware", &[10, 11]),
    ("app/middleware.py", "log_middleware", &[33, 34]),
    ("app/views/orders.py", "list_orders", &[13, 14, 15, 18]),
    ("app/views/orders.py", "create_order", &[16, 17, 13, 18]),
    ("app/views/users.py", "UserView.get", &[13, 18, 19]),
    ("app/auth.py", "verify_token", &[20, 29]),
    ("app/auth.py", "load_session", &[13]),
    ("app/server.py", "Server.send_response", &[18, 35]),
    ("app/db/query.py", "Query.execute", &[22, 23, 24]),
    ("app/db/query.py", "Query.filter", &[25]),
    ("app/services/pricing.py", "compute_totals", &[26, 27, 28]),
    ("app/services/pricing.py", "apply_discounts", &[28, 27]),
    ("app/services/inventory.py", "reserve_stock", &[13, 30]),
    ("app/serializers.py", "serialize", &[31, 32, 37]),
    ("app/views/users.py", "UserView.permissions", &[14]),
    ("<stdlib>/hmac.py", "compare_digest", &[]),
    ("app/templates.py", "Template.compile", &[25, 21]),
    ("app/db/pool.py", "Pool.acquire", &[39]),
    ("app/db/cursor.py", "Cursor.fetchall", &[39, 31]),
    ("app/db/cursor.py", "Cursor.row_factory", &[]),
    ("<stdlib>/re/__init__.py", "compile", &[]),
    (
        "<site-packages>/decimal_utils/money.py",
        "Money.__add__",
        &[],
    ),
    ("app/services/pricing.py", "tax_rate", &[28]),
    ("app/services/pricing.py", "round_half_even", &[]),
    ("<stdlib>/base64.py", "urlsafe_b64decode", &[]),
    ("app/services/inventory.py", "StockLevel.lock", &[]),
    ("<stdlib>/json/encoder.py", "JSONEncoder.encode", &[32]),
    ("<stdlib>/json/encoder.py", "JSONEncoder.iterencode", &[]),
    ("<stdlib>/logging/__init__.py", "Logger.info", &[34]),
    ("<stdlib>/logging/__init__.py", "Handler.emit", &[]),
    ("app/server.py", "Server.flush", &[]),
    ("app/server.py", "Server.shutdown", &[]),
    ("app/serializers.py", "to_camel_case", &[25]),
    ("~", "<GC>", &[]),
    ("~", "<native>", &[]),
];

/// Random walks down [`APP`] from the root: function-level stacks with counts.
fn app_stacks(rng: &mut Rng, walks: usize, hot: &[(usize, u64)]) -> Vec<StackCount> {
    let mut merged: BTreeMap<Vec<u32>, u64> = BTreeMap::new();
    for _ in 0..walks {
        let mut frames = vec![0u32];
        let mut at = 0usize;
        loop {
            let callees = APP.get(at).map(|a| a.2).unwrap_or(&[]);
            // Stop early sometimes: the function itself is on CPU (self time).
            if callees.is_empty() || rng.f64() < 0.18 {
                break;
            }
            // Earlier callees are hotter (weight 1/(k+1)), like a real program's hot path.
            let weights: f64 = (1..=callees.len()).map(|k| 1.0 / k as f64).sum();
            let mut pick = rng.f64() * weights;
            let mut k = 0;
            while k + 1 < callees.len() && pick >= 1.0 / (k + 1) as f64 {
                pick -= 1.0 / (k + 1) as f64;
                k += 1;
            }
            at = callees[k];
            frames.push(at as u32);
            if frames.len() > 14 {
                break;
            }
        }
        let boost = hot
            .iter()
            .filter(|(f, _)| frames.contains(&(*f as u32)))
            .map(|(_, b)| *b)
            .sum::<u64>();
        *merged.entry(frames).or_default() += 1 + boost;
    }
    merged
        .into_iter()
        .map(|(frames, count)| StackCount { frames, count })
        .collect()
}

fn app_functions() -> Vec<FunctionId> {
    APP.iter()
        .map(|(file, name, _)| FunctionId::new(*file, *name))
        .collect()
}

/// A realistic report: `checkout_flow` fails (two regressions, a budget breach, an
/// improvement), `render_catalog` passes (with an inconclusive function), `import_time` errored.
pub fn sample_report() -> ComparisonReport {
    let mut rng = Rng(0x7AC4_7AC4);
    let functions = app_functions();
    // Order matters: both scenarios draw from the same generator.
    let s1 = checkout_flow(&mut rng, &functions);
    let s2 = render_catalog(&mut rng, &functions);
    let s3 = import_time();

    ComparisonReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tachygate_version: "0.1.0".into(),
        label: "PR #1234: faster order serialization".into(),
        created: date(14, 20),
        status: OverallStatus::Error,
        scenarios: vec![s1, s2, s3],
        source_url_template: Some("https://github.com/example/shop/blob/{commit}/{file}".into()),
    }
}

/// `checkout_flow` fails: pricing got slower, serialization faster, a budget breach and a
/// function that only exists in the candidate.
fn checkout_flow(rng: &mut Rng, functions: &[FunctionId]) -> ScenarioComparison {
    let stacks = app_stacks(rng, 4000, &[(15, 14), (26, 6), (31, 4)]);
    let shift1 = |i: usize, m: Metric| match (i, m) {
        (15, Metric::Cumulative) => 0.45,
        (15, Metric::SelfShare) => 0.3,
        (26, _) => 0.8,
        (16, Metric::Cumulative) => 0.12,
        (31, Metric::Cumulative) => -0.45,
        (32, _) => -0.4,
        _ => 0.0,
    };
    let budgets1: HashMap<usize, f64> = [(15usize, 0.12f64), (13, 0.60)].into_iter().collect();
    let mut fns1 = comparisons(rng, functions, &stacks, 10, &shift1, &budgets1);
    // One function that only exists in the candidate.
    if let Some(f) = fns1.iter_mut().find(|f| f.function.name == "to_camel_case") {
        f.baseline = ShareSummary {
            runs: 10,
            mean: 0.0,
            sd: 0.0,
            per_run: vec![0.0; 10],
        };
        f.delta = f.candidate.mean;
        f.verdict = if f.candidate.mean > 0.0 {
            Verdict::New
        } else {
            Verdict::Unchanged
        };
    }
    ScenarioComparison {
        scenario: "checkout_flow".into(),
        status: status_of(&fns1),
        baseline: Some(side("baselines/checkout_flow.json", 10, 48_210, "9f1c2e7", (9, 12))),
        candidate: Some(side("reports/results/checkout_flow", 10, 49_876, "4b7d0aa", (14, 3))),
        warnings: vec![
            "CPU model differs from the baseline's (baseline: Intel Xeon Platinum 8370C; candidate: AMD EPYC 7763); comparison allowed by --allow-mismatch cpu".into(),
            "run 7 excluded: sampler error rate 4.1 % above 2 %".into(),
        ],
        errors: vec![],
        confidence: 0.95,
        functions: fns1,
        flame: Some(FlameData {
            functions: functions.to_vec(),
            stacks,
        }),
        reproduce: Some("tachygate run --scenario checkout_flow --runs 10 --out reports/results".into()),
    }
}

/// `render_catalog` passes: nothing gated moved enough; one function is inconclusive.
fn render_catalog(rng: &mut Rng, functions: &[FunctionId]) -> ScenarioComparison {
    let stacks2 = app_stacks(rng, 3000, &[(21, 2)]);
    let shift2 = |i: usize, m: Metric| match (i, m) {
        (21, Metric::Cumulative) => 0.055,
        (25, _) => -0.05,
        (18, Metric::Cumulative) => -0.6,
        _ => 0.0,
    };
    let mut fns2 = comparisons(rng, functions, &stacks2, 8, &shift2, &HashMap::new());
    // An interval straddling the noise band: neither a regression nor ruled out.
    if let Some(f) = fns2
        .iter_mut()
        .find(|f| f.function.name == "Template.compile" && f.metric == Metric::Cumulative)
    {
        f.baseline.mean = f.candidate.mean - 0.0093;
        f.delta = 0.0093;
        f.ci_low = 0.0021;
        f.ci_high = 0.0165;
        f.verdict = Verdict::Inconclusive;
        f.runs_needed = Some(24);
    }
    ScenarioComparison {
        scenario: "render_catalog".into(),
        status: status_of(&fns2),
        baseline: Some(side(
            "baselines/render_catalog.json",
            8,
            31_004,
            "9f1c2e7",
            (9, 20),
        )),
        candidate: Some(side(
            "reports/results/render_catalog",
            8,
            30_771,
            "4b7d0aa",
            (14, 9),
        )),
        warnings: vec!["Python patch version differs: baseline 3.15.1, candidate 3.15.2".into()],
        errors: vec![],
        confidence: 0.95,
        functions: fns2,
        flame: Some(FlameData {
            functions: functions.to_vec(),
            stacks: stacks2,
        }),
        reproduce: Some(
            "tachygate run --scenario render_catalog --runs 8 --out reports/results".into(),
        ),
    }
}

/// `import_time` errored: no candidate run succeeded.
fn import_time() -> ScenarioComparison {
    ScenarioComparison {
        scenario: "import_time".into(),
        status: ScenarioStatus::Error,
        baseline: Some(side("baselines/import_time.json", 10, 12_400, "9f1c2e7", (9, 30))),
        candidate: None,
        warnings: vec![],
        errors: vec![
            "run 0: workload exited with status 1 (expected 0): ModuleNotFoundError: No module named 'app.plugins'".into(),
            "run 1: workload exited with status 1 (expected 0): ModuleNotFoundError: No module named 'app.plugins'".into(),
            "no successful candidate runs: comparison not made".into(),
        ],
        confidence: 0.95,
        functions: vec![],
        flame: None,
        reproduce: Some("tachygate run --scenario import_time --runs 10 --out reports/results".into()),
    }
}

/// Names chosen to break renderers: markup, script, comment and CDATA terminators, table
/// pipes, backticks, mentions, issue references, newlines, control and bidi characters, and
/// a 10,000-character name.
#[cfg(any(test, feature = "fixtures"))]
pub fn hostile_names() -> Vec<String> {
    vec![
        "<script>alert(1)</script>".into(),
        "</script><script>alert(document.domain)</script>".into(),
        "<!--".into(),
        "x\" onmouseover=\"alert(1)\" y='".into(),
        "a|b|c | d".into(),
        "`rm -rf /` ```fence```".into(),
        "@octocat please look @github/security".into(),
        "fixes #123 and org/repo#45".into(),
        "line1\nline2\r\n| --- |".into(),
        "]]><![CDATA[ & &amp; &#64;x".into(),
        "ctrl\u{0}\u{1}\u{8}\u{1b}[31m\u{7f}".into(),
        "bidi\u{202E}txt.py".into(),
        "<img src=x onerror=alert(1)>".into(),
        "javascript:alert(1)".into(),
        "{{ 7*7 }}{% raw %}".into(),
        "[click](https://evil.example) ![i](https://evil.example/x.png)".into(),
        "L".repeat(10_000),
    ]
}

/// The sample report with hostile strings in every free-text field a renderer shows.
#[cfg(any(test, feature = "fixtures"))]
pub fn hostile_report() -> ComparisonReport {
    let mut r = sample_report();
    let names = hostile_names();
    r.label = format!("{} {}", names[0], names[6]);
    r.source_url_template = Some("javascript:alert(1)//{file}".into());
    let pick = |i: usize| names[i % names.len()].clone();
    for (si, s) in r.scenarios.iter_mut().enumerate() {
        if si == 1 {
            s.scenario = format!("render {}", pick(1));
        }
        s.warnings.push(pick(2) + &pick(7));
        s.errors.iter_mut().for_each(|e| e.push_str(&pick(9)));
        s.reproduce = Some(format!("tachygate run --scenario '{}'", pick(0)));
        for side in [&mut s.baseline, &mut s.candidate].into_iter().flatten() {
            side.environment.hostname = pick(3);
            side.environment.git_commit = Some(pick(1));
            side.source = pick(12);
        }
        let mut renames: HashMap<FunctionId, FunctionId> = HashMap::new();
        if let Some(flame) = &mut s.flame {
            for (i, f) in flame.functions.iter_mut().enumerate() {
                let new = FunctionId::new(
                    if i % 3 == 0 {
                        pick(i + 11)
                    } else {
                        f.file.clone()
                    },
                    pick(i),
                );
                renames.insert(f.clone(), new.clone());
                *f = new;
            }
        }
        for f in &mut s.functions {
            if let Some(n) = renames.get(&f.function) {
                f.function = n.clone();
            }
        }
        s.functions.sort_by(|a, b| a.function.cmp(&b.function));
    }
    r
}

/// A benchmark-sized report: one scenario with `functions` functions (both metrics) and
/// stacks whose merged tree has about `flame_nodes` nodes.
#[cfg(any(test, feature = "fixtures"))]
pub fn large_report(functions: usize, flame_nodes: usize) -> ComparisonReport {
    let mut rng = Rng(0xB16_B00B5);
    let functions = functions.max(2);
    let ids: Vec<FunctionId> = (0..functions)
        .map(|i| {
            FunctionId::new(
                format!("pkg/module_{:03}/file_{}.py", i / 20, i % 20),
                format!("Class{}.method_{}", i % 97, i),
            )
        })
        .collect();
    // Walk a random call graph; every new (parent path, function) pair is a new tree node.
    let mut seen: HashMap<(u32, u32), u32> = HashMap::new();
    let mut merged: BTreeMap<Vec<u32>, u64> = BTreeMap::new();
    let mut guard = 0usize;
    while seen.len() < flame_nodes && guard < flame_nodes * 20 {
        guard += 1;
        let depth = 3 + rng.below(25);
        let mut frames = Vec::with_capacity(depth);
        let mut node = u32::MAX;
        // A few hot entry points keep the tree shaped like a real program's.
        let mut f = rng.below(8) as u32;
        for _ in 0..depth {
            frames.push(f);
            let next = seen.len() as u32;
            node = *seen.entry((node, f)).or_insert(next);
            f = if rng.f64() < 0.7 {
                // Reuse a "usual" callee so paths share prefixes.
                ((f as usize * 31 + 7 + rng.below(4)) % functions) as u32
            } else {
                rng.below(functions) as u32
            };
        }
        *merged.entry(frames).or_default() += 1 + rng.below(50) as u64;
    }
    let stacks: Vec<StackCount> = merged
        .into_iter()
        .map(|(frames, count)| StackCount { frames, count })
        .collect();
    let shift = |i: usize, _m: Metric| match i % 50 {
        0 => 0.3,
        1 => -0.3,
        _ => 0.0,
    };
    let fns = comparisons(&mut rng, &ids, &stacks, 10, &shift, &HashMap::new());
    let total = stacks.iter().map(|s| s.count).sum();
    let mut cand = side("reports/results/big", 10, total, "4b7d0aa", (14, 0));
    cand.total_samples = total;
    ComparisonReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tachygate_version: "0.1.0".into(),
        label: "benchmark".into(),
        created: date(15, 0),
        status: OverallStatus::Fail,
        scenarios: vec![ScenarioComparison {
            scenario: "big".into(),
            status: ScenarioStatus::Fail,
            baseline: Some(side("baselines/big.json", 10, total, "9f1c2e7", (9, 0))),
            candidate: Some(cand),
            warnings: vec![],
            errors: vec![],
            confidence: 0.95,
            functions: fns,
            flame: Some(FlameData {
                functions: ids,
                stacks,
            }),
            reproduce: None,
        }],
        source_url_template: None,
    }
}
