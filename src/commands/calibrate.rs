//! `tachygate calibrate SCENARIO`: how noisy is this scenario on this machine? Makes N runs
//! of the same code (an A/A experiment), splits them into interleaved halves (even runs vs odd
//! runs, so drift hits both alike), compares the halves with the real gate, and reports:
//! per-function run-to-run spread, the noise floor (interval half-width), false alarms seen,
//! and the smallest change the current settings detect with ~95% power - plus how many runs
//! per side a chosen min_effect would need.
//!
//! With runs from several recording sessions (`--from` with one results directory per
//! session, or `--baseline` of a baseline with appended sessions) it also splits each
//! function's spread into within- and between-session variance and prints what precision a
//! number of sessions and runs per session buys: runs only shrink the within part, sessions
//! the between part (repeat where the variance is - Kalibera & Jones 2013).

use super::common::Global;
use super::common::{on_interrupt, select_scenarios, verbosity, GateArgs};
use crate::baseline::{sample_set_from_runs, SampleSet};
use crate::compare::stats::{mean_sd, median, t_quantile, variance_components};
use crate::compare::{
    compare_sets, default_min_effect, CompareOptions, Metric, ScenarioComparison, Verdict,
};
use crate::exit::{self, usage, Exit};
use crate::run::{self, RunOptions, RunSummary, TerminalProgress};
use crate::scenario::{Mode, SamplerSettings, Scenario};
use anyhow::Context;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Power the "detectable shift" is computed for.
const POWER: f64 = 0.95;
/// Functions below this mean self share are not listed.
const LIST_MIN_SHARE: f64 = 0.005;

#[derive(Debug, clap::Args)]
#[command(after_help = exit::help_for(&[Exit::Pass, Exit::Usage, Exit::Failure, Exit::Interrupted], &[
    (Exit::Pass, "done"),
    (Exit::Usage, "usage/config error"),
    (Exit::Failure, "too few runs succeeded"),
]))]
pub struct Args {
    /// The scenario (name or glob matching exactly one).
    pub scenario: String,
    /// Total runs, split into two interleaved halves (minimum 4).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(4..))]
    pub runs: u32,
    /// Use the runs in these results directories instead of running; each directory is one
    /// recording session.
    #[arg(long, value_name = "RESULTS", num_args = 1.., conflicts_with = "baseline")]
    pub from: Vec<PathBuf>,
    /// Use the runs (and sessions) of this baseline file instead of running.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Scenario definitions: a scenario file or directory [default: scenarios/].
    #[arg(long, value_name = "PATH")]
    pub scenarios: Option<PathBuf>,
    /// CPython 3.15+ interpreter.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Results directory [default: .tachygate/results/calibrate-<scenario>-<UTC time>].
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Also make 3 runs with the other sampler setting (blocking toggled; `mode = "cpu"` is
    /// tried as `gil` with blocking, since cpu records nothing with blocking) and say which
    /// to use, from the error rates (docs/sampling-protocol.md).
    #[arg(long)]
    pub compare_sampler: bool,
    #[command(flatten)]
    pub gate: GateArgs,
}

/// Runs made with the alternative sampler setting by `--compare-sampler`.
const COMPARE_RUNS: u32 = 3;

/// The sampler setting `--compare-sampler` tries against `s`.
pub fn alternative_sampler(s: &SamplerSettings) -> SamplerSettings {
    let mut alt = s.clone();
    if s.blocking {
        alt.blocking = false;
    } else {
        alt.blocking = true;
        if s.mode == Mode::Cpu {
            alt.mode = Mode::Gil;
        }
    }
    alt
}

fn sampler_label(s: &SamplerSettings) -> String {
    format!(
        "mode = \"{}\", blocking = {}",
        s.mode,
        if s.blocking { "true" } else { "false" }
    )
}

/// Which sampler setting to use, from the median error rates of the scenario's runs and
/// (optionally) of runs with the alternative setting. One line for the user.
pub fn sampler_recommendation(
    current: &SamplerSettings,
    current_err: Option<f64>,
    alt: Option<(&SamplerSettings, Option<f64>)>,
    limit: f64,
) -> String {
    let pct = |e: Option<f64>| e.map_or_else(|| "unknown".to_string(), |e| format!("{e:.1}%"));
    if let Some((alt_s, alt_err)) = alt {
        let (c, a) = (
            current_err.unwrap_or(f64::INFINITY),
            alt_err.unwrap_or(f64::INFINITY),
        );
        // Prefer blocking unless it is clearly worse: without it, failed reads are uneven over
        // functions (biased shares) even when their rate looks acceptable.
        let pick_alt = if alt_s.blocking {
            a <= limit && (a <= c + 1.0 || c > limit)
        } else {
            c > limit && a + 1.0 < c
        };
        let (pick, pick_err) = if pick_alt {
            (alt_s, alt_err)
        } else {
            (current, current_err)
        };
        let verdict = if pick_alt {
            format!("use [sampler] {}", sampler_label(pick))
        } else {
            format!("keep [sampler] {}", sampler_label(pick))
        };
        let mut line = format!(
            "sampler: error rate {} with {} vs {} with {}; {verdict}",
            pct(current_err),
            sampler_label(current),
            pct(alt_err),
            sampler_label(alt_s)
        );
        if pick_err.is_some_and(|e| e > limit) {
            line.push_str(&format!(
                " (still above max_error_rate {limit}%: the machine is probably busy; calibrate on a quieter one)"
            ));
        }
        return line;
    }
    let base = format!(
        "sampler: median error rate {} with {}",
        pct(current_err),
        sampler_label(current)
    );
    match (current.blocking, current_err) {
        (true, Some(e)) if e > limit => format!("{base}, above max_error_rate {limit}% even with blocking: the machine is probably busy; calibrate on a quieter machine"),
        (true, _) => format!("{base}: the measured protocol (docs/sampling-protocol.md)"),
        (false, Some(e)) if e > limit => format!("{base}, above max_error_rate {limit}%: call-heavy code is read unreliably without blocking; use [sampler] {} (run again with --compare-sampler to measure both)", sampler_label(&alternative_sampler(current))),
        (false, _) => format!("{base}: low here, but without blocking failed reads are uneven across functions on call-heavy code; --compare-sampler measures [sampler] {}", sampler_label(&alternative_sampler(current))),
    }
}

fn median_error_rate(runs: &run::ScenarioRuns) -> Option<f64> {
    let errs: Vec<f64> = runs
        .records
        .iter()
        .filter_map(|(r, _)| r.error_rate_pct)
        .collect();
    median(&errs)
}

/// Smallest true shift detected with probability [`POWER`] by a two-sided test at `alpha`
/// with `n` runs per side and per-run sd `sd`: (t_{1-alpha/2} + t_{power}) * sd * sqrt(2/n),
/// df = 2n - 2 plus the variance prior's df on each side (the gate moderates variances, see
/// `compare::PRIOR_DF`) - the usual power formula with t quantiles.
pub fn detectable_shift(sd: f64, n: usize, alpha: f64) -> f64 {
    let df = ((2 * n).saturating_sub(2).max(1)) as f64 + 2.0 * crate::compare::PRIOR_DF;
    let t_a = t_quantile(1.0 - alpha, df);
    // t_quantile is two-sided: confidence c gives the 1-(1-c)/2 quantile; POWER one-sided.
    let t_b = t_quantile(2.0 * POWER - 1.0, df);
    (t_a + t_b) * sd * (2.0 / n.max(1) as f64).sqrt()
}

/// Runs per side for [`detectable_shift`] to reach `effect`, up to 1000.
pub fn runs_for(sd: f64, effect: f64, alpha: f64) -> Option<usize> {
    (2..=1000).find(|&n| detectable_shift(sd, n, alpha) <= effect)
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    let scenario = select_one(&args)?;
    let dir = args.results.clone().unwrap_or_else(|| {
        run::default_results_dir(Some(&format!(
            "calibrate-{}-{}",
            scenario.name,
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )))
    });
    if let Some(p) = &args.python {
        crate::python::probe(p, "--python")?;
    }
    let runner = Runner {
        args: &args,
        interrupt: Arc::new(AtomicBool::new(false)),
        g,
    };
    let runs_now = args.baseline.is_none() && args.from.is_empty();
    if runs_now || args.compare_sampler {
        on_interrupt(&runner.interrupt)?;
    }
    let ControlFlow::Continue(Gathered { all, records }) =
        gather(&runner, &scenario, &dir, runs_now)?
    else {
        return Ok(Exit::Interrupted);
    };
    if recommend_sampler(&runner, &scenario, &records, &dir)?.is_break() {
        return Ok(Exit::Interrupted);
    }
    let Some(all) = all.filter(|s| s.runs.len() >= 4) else {
        eprintln!(
            "tachygate: {}: fewer than 4 usable runs; cannot calibrate",
            scenario.name
        );
        return Ok(Exit::Failure);
    };
    let (a, b) = (half(&all, 0), half(&all, 1));
    let opts = args.gate.options();
    let cmp = compare_sets(&a, &b, &scenario.gate, &opts)?;
    let alpha = 1.0 - opts.confidence;
    let min_effect = opts
        .min_effect
        .or(scenario.gate.min_effect_pp.map(|p| p / 100.0))
        .unwrap_or_else(|| default_min_effect(scenario.sampler.mode));
    // The gate's worst-case per-test alpha: Holm over the tested family.
    let family = cmp
        .functions
        .iter()
        .filter(|f| f.p_adjusted < 1.0 || f.baseline.mean.max(f.candidate.mean) >= f.min_effect)
        .count()
        .max(1);
    let power = Power {
        per_side: a.runs.len().min(b.runs.len()),
        per_test_alpha: alpha / family as f64,
        family,
        min_effect,
    };
    let rows = spread_rows(&all);
    let detect = print_spread_table(&scenario, &all, (&a, &b), &rows, &power)?;
    print_summary(&cmp, &opts, &detect, &power)?;
    if all.session_count() >= 2 {
        print_session_components(&all, &rows, power.per_test_alpha)?;
    }
    Ok(Exit::Pass)
}

/// The one scenario named on the command line.
fn select_one(args: &Args) -> anyhow::Result<Scenario> {
    let scenario_paths: Vec<PathBuf> = args.scenarios.iter().cloned().collect();
    let selected = select_scenarios(
        &scenario_paths,
        std::slice::from_ref(&args.scenario),
        &[],
        None,
    )?;
    let [scenario] = selected.as_slice() else {
        return Err(usage(format!(
            "{:?} matches {} scenarios; name exactly one",
            args.scenario,
            selected.len()
        )));
    };
    Ok(scenario.clone())
}

/// Makes runs of a scenario on behalf of `calibrate`, stopping on Ctrl-C.
struct Runner<'a> {
    args: &'a Args,
    interrupt: Arc<AtomicBool>,
    g: &'a Global,
}

impl Runner<'_> {
    fn execute(&self, s: &Scenario, dir: PathBuf, repeats: u32) -> anyhow::Result<RunSummary> {
        let mut opts = RunOptions::new(dir);
        opts.python = self.args.python.clone();
        opts.repeats = Some(repeats);
        opts.interrupt = Some(Arc::clone(&self.interrupt));
        let progress = TerminalProgress::new(verbosity(self.g));
        run::run_scenarios(std::slice::from_ref(s), &opts, &progress)
            .context("writing the results directory")
    }
}

struct Gathered {
    /// The usable runs to calibrate on.
    all: Option<SampleSet>,
    /// Every attempt's record, healthy or not: a scenario whose runs all fail the error-rate
    /// check still gets told what to change.
    records: Vec<run::ScenarioRuns>,
}

/// The runs from `--baseline`, run now, or one session per `--from` directory. `Break`:
/// interrupted.
fn gather(
    runner: &Runner,
    scenario: &Scenario,
    dir: &Path,
    runs_now: bool,
) -> anyhow::Result<ControlFlow<(), Gathered>> {
    let args = runner.args;
    let mut records: Vec<run::ScenarioRuns> = Vec::new();
    let all = if let Some(path) = &args.baseline {
        let set = SampleSet::load(path)?;
        if set.scenario != scenario.name {
            return Err(usage(format!(
                "{} holds scenario {}, not {}",
                path.display(),
                set.scenario,
                scenario.name
            )));
        }
        Some(set)
    } else if runs_now {
        let summary = runner.execute(scenario, dir.to_path_buf(), args.runs)?;
        if summary.interrupted {
            return Ok(ControlFlow::Break(()));
        }
        let set = built_set(&summary.scenarios, scenario)?;
        records.extend(summary.scenarios);
        set
    } else {
        // One session per results directory.
        let mut merged: Option<SampleSet> = None;
        for dir in &args.from {
            let runs = run::load_results(std::slice::from_ref(dir))?;
            let set = built_set(&runs, scenario)?;
            records.extend(runs);
            let Some(set) = set else {
                continue;
            };
            match &mut merged {
                None => merged = Some(set),
                Some(m) => m.append_session(set, dir)?,
            }
        }
        if merged.is_none() {
            return Err(usage(format!("no runs of {} found", scenario.name)));
        }
        merged
    };
    Ok(ControlFlow::Continue(Gathered { all, records }))
}

/// Prints which sampler setting to use (with `--compare-sampler`, after runs with the other
/// setting). `Break`: interrupted.
fn recommend_sampler(
    runner: &Runner,
    scenario: &Scenario,
    records: &[run::ScenarioRuns],
    dir: &Path,
) -> anyhow::Result<ControlFlow<()>> {
    let Some(sr) = records.iter().find(|r| r.scenario == scenario.name) else {
        return Ok(ControlFlow::Continue(()));
    };
    let sampler_used = sr
        .records
        .first()
        .map(|(r, _)| r.sampler.clone())
        .unwrap_or_else(|| scenario.sampler.clone());
    let alt = if runner.args.compare_sampler {
        let mut other = scenario.clone();
        other.sampler = alternative_sampler(&sampler_used);
        let summary = runner.execute(&other, dir.join("compare-sampler"), COMPARE_RUNS)?;
        if summary.interrupted {
            return Ok(ControlFlow::Break(()));
        }
        let err = summary.scenarios.first().and_then(median_error_rate);
        Some((other.sampler, err))
    } else {
        None
    };
    writeln!(
        super::stdout(),
        "{}",
        sampler_recommendation(
            &sampler_used,
            median_error_rate(sr),
            alt.as_ref().map(|(s, e)| (s, *e)),
            scenario.run.max_error_rate_pct,
        )
    )?;
    Ok(ControlFlow::Continue(()))
}

/// The even (`parity` 0) or odd runs of `all`, as one session.
fn half(all: &SampleSet, parity: usize) -> SampleSet {
    SampleSet {
        runs: all
            .runs
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == parity)
            .map(|(_, r)| r.clone())
            .collect(),
        source: format!(
            "calibrate ({} runs)",
            if parity == 0 { "even" } else { "odd" }
        ),
        // The halves are compared as single sessions: the A/A measures run-to-run noise.
        sessions: Vec::new(),
        run_sessions: Vec::new(),
        ..all.clone()
    }
}

/// What the A/A comparison's settings can detect.
struct Power {
    per_side: usize,
    /// After Holm over `family` tests.
    per_test_alpha: f64,
    family: usize,
    min_effect: f64,
}

/// Per function listed: name, mean self share, run-to-run sd, and sd over the binomial sd
/// the sample count alone would give; largest share first.
fn spread_rows(all: &SampleSet) -> Vec<(String, f64, f64, f64)> {
    // Per-function run-to-run spread of the self share over all runs.
    let mut shares: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (r, run) in all.runs.iter().enumerate() {
        let total = run.total_samples.max(1) as f64;
        for f in &run.functions {
            let v = shares
                .entry(f.function.to_string())
                .or_insert_with(|| vec![0.0; all.runs.len()]);
            if let Some(slot) = v.get_mut(r) {
                *slot = f.self_samples as f64 / total;
            }
        }
    }
    let samples_per_run = samples_per_run(all);
    let mut rows: Vec<(String, f64, f64, f64)> = shares
        .into_iter()
        .map(|(name, v)| {
            let (m, sd) = mean_sd(&v);
            let binom = (m * (1.0 - m) / samples_per_run.max(1.0)).sqrt();
            (name, m, sd, if binom > 0.0 { sd / binom } else { 0.0 })
        })
        .filter(|r| r.1 >= LIST_MIN_SHARE)
        .collect();
    rows.sort_by(|x, y| y.1.total_cmp(&x.1));
    rows
}

fn samples_per_run(all: &SampleSet) -> f64 {
    all.total_samples() as f64 / all.runs.len() as f64
}

/// The header and the per-function table; returns each listed function's detectable shift.
fn print_spread_table(
    scenario: &Scenario,
    all: &SampleSet,
    (a, b): (&SampleSet, &SampleSet),
    rows: &[(String, f64, f64, f64)],
    power: &Power,
) -> anyhow::Result<Vec<f64>> {
    writeln!(
        super::stdout(),
        "calibrate {}: {} runs ({} vs {} interleaved), {:.0} samples/run, {} {} Hz",
        scenario.name,
        all.runs.len(),
        a.runs.len(),
        b.runs.len(),
        samples_per_run(all),
        all.sampler.mode,
        all.sampler.rate_hz
    )?;
    writeln!(
        super::stdout(),
        "  {:<56} {:>7} {:>8} {:>9} {:>11} {:>10}",
        "function (self share)",
        "mean",
        "sd pp",
        "sd/binom",
        "detect pp",
        "runs/side"
    )?;
    let mut detect = Vec::new();
    for (name, m, sd, ratio) in rows {
        let d = detectable_shift(*sd, power.per_side, power.per_test_alpha);
        detect.push(d);
        let need = runs_for(*sd, power.min_effect, power.per_test_alpha)
            .map_or_else(|| ">1000".to_string(), |n| n.to_string());
        writeln!(
            super::stdout(),
            "  {:<56} {:>6.1}% {:>8.2} {:>9.2} {:>11.2} {:>10}",
            name,
            m * 100.0,
            sd * 100.0,
            ratio,
            d * 100.0,
            need
        )?;
    }
    Ok(detect)
}

/// Noise floor, detectable shift, min_effect, false alarms and the comparison's warnings.
fn print_summary(
    cmp: &ScenarioComparison,
    opts: &CompareOptions,
    detect: &[f64],
    power: &Power,
) -> anyhow::Result<()> {
    let half_widths: Vec<f64> = cmp
        .functions
        .iter()
        .filter(|f| f.metric == Metric::SelfShare && f.baseline.mean >= 0.01)
        .map(|f| (f.ci_high - f.ci_low) / 2.0)
        .collect();
    let alarms: Vec<String> = cmp
        .functions
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Regressed | Verdict::Improved))
        .map(|f| format!("{} ({:?}, {})", f.function, f.metric, f.verdict.as_str()))
        .collect();
    writeln!(super::stdout())?;
    if let Some(hw) = median(&half_widths) {
        writeln!(super::stdout(),
            "noise floor: median {:.0}% interval half-width {:.2} pp with {} runs per side (functions >= 1%)",
            opts.confidence * 100.0,
            hw * 100.0,
            power.per_side
        )?;
    }
    if let Some(d) = median(detect) {
        writeln!(super::stdout(),
            "smallest shift detected with ~{:.0}% power at {} runs/side: median {:.2} pp over listed functions (per-test alpha {:.4} after Holm over {} tests)",
            POWER * 100.0,
            power.per_side,
            d * 100.0,
            power.per_test_alpha,
            power.family
        )?;
    }
    writeln!(super::stdout(),
        "min_effect {:.2} pp: the 'runs/side' column is what each function needs to detect it with ~{:.0}% power",
        power.min_effect * 100.0,
        POWER * 100.0
    )?;
    if alarms.is_empty() {
        writeln!(super::stdout(), "false alarms in this A/A comparison: none")?;
    } else {
        writeln!(
            super::stdout(),
            "false alarms in this A/A comparison: {} ({})",
            alarms.len(),
            alarms.join(", ")
        )?;
    }
    for w in &cmp.warnings {
        writeln!(super::stdout(), "warning: {w}")?;
    }
    Ok(())
}

/// The usable runs of `scenario` among `runs`, with exclusions reported on stderr.
fn built_set(
    runs: &[run::ScenarioRuns],
    scenario: &crate::scenario::Scenario,
) -> anyhow::Result<Option<SampleSet>> {
    let Some(sr) = runs.iter().find(|r| r.scenario == scenario.name) else {
        return Ok(None);
    };
    let built = sample_set_from_runs(sr, Some(scenario), false, "calibrate")?;
    for e in &built.excluded {
        eprintln!("tachygate: {}: excluded {e}", scenario.name);
    }
    Ok(built.set)
}

/// Smallest shift detected with ~[`POWER`] power against a baseline of `k` sessions of `n`
/// runs, by a candidate of one new session of `n` runs, given the within- and between-session
/// sds: the gate's variance `s_b^2 (1/k + 1) + s_w^2/(k n) + s_w^2/n` (see
/// `stats::welch_sessions`), with the df of its within-session parts.
pub fn detectable_shift_sessions(sw: f64, sb: f64, k: usize, n: usize, alpha: f64) -> f64 {
    let (kf, nf) = (k.max(1) as f64, n.max(1) as f64);
    let var = sb * sb * (1.0 / kf + 1.0) + sw * sw / (kf * nf) + sw * sw / nf;
    let df = (kf * nf - kf + nf - 1.0).max(1.0) + 2.0 * crate::compare::PRIOR_DF;
    let t_a = t_quantile(1.0 - alpha, df);
    let t_b = t_quantile(2.0 * POWER - 1.0, df);
    (t_a + t_b) * var.sqrt()
}

/// Within- and between-session variance per listed function, and what precision sessions and
/// runs buy.
fn print_session_components(
    all: &SampleSet,
    rows: &[(String, f64, f64, f64)],
    alpha: f64,
) -> std::io::Result<()> {
    let sessions = all.session_of_runs();
    let mut comps = Vec::new();
    writeln!(super::stdout())?;
    writeln!(
        super::stdout(),
        "variance components over {} sessions ({} runs):",
        all.session_count(),
        all.runs.len()
    )?;
    writeln!(
        super::stdout(),
        "  {:<56} {:>7} {:>9} {:>10} {:>9}",
        "function (self share)",
        "mean",
        "within pp",
        "between pp",
        "between %"
    )?;
    for (name, _, _, _) in rows {
        let values: Vec<f64> = all
            .runs
            .iter()
            .map(|r| {
                let total = r.total_samples.max(1) as f64;
                r.functions
                    .iter()
                    .find(|f| f.function.to_string() == *name)
                    .map_or(0.0, |f| f.self_samples as f64 / total)
            })
            .collect();
        let Some(c) = variance_components(&values, &sessions) else {
            continue;
        };
        let share = c.between / (c.between + c.within).max(f64::MIN_POSITIVE);
        writeln!(
            super::stdout(),
            "  {:<56} {:>6.1}% {:>9.2} {:>10.2} {:>8.0}%",
            name,
            c.mean * 100.0,
            c.within.sqrt() * 100.0,
            c.between.sqrt() * 100.0,
            share * 100.0
        )?;
        comps.push((c.within.sqrt(), c.between.sqrt()));
    }
    if comps.is_empty() {
        return Ok(());
    }
    writeln!(super::stdout(),
        "smallest shift detected with ~{:.0}% power (median over listed functions, pp), baseline sessions x runs per session, candidate one session of the same runs:",
        POWER * 100.0
    )?;
    let runs = [3, 5, 10, 20];
    write!(super::stdout(), "  {:>9}", "sessions")?;
    for n in runs {
        write!(super::stdout(), " {:>8}", format!("{n} runs"))?;
    }
    writeln!(super::stdout())?;
    for k in [1, 2, 3, 5, 10] {
        write!(super::stdout(), "  {k:>9}")?;
        for n in runs {
            let d: Vec<f64> = comps
                .iter()
                .map(|(sw, sb)| detectable_shift_sessions(*sw, *sb, k, n, alpha))
                .collect();
            write!(
                super::stdout(),
                " {:>8.2}",
                median(&d).unwrap_or(f64::NAN) * 100.0
            )?;
        }
        writeln!(super::stdout())?;
    }
    let (sw, sb): (Vec<f64>, Vec<f64>) = comps.iter().copied().unzip();
    let (msw, msb) = (median(&sw).unwrap_or(0.0), median(&sb).unwrap_or(0.0));
    if msb * msb > msw * msw / 5.0 {
        writeln!(super::stdout(),
            "the between-session variance dominates (median sd {:.2} pp between, {:.2} pp within a session of 5 runs): more runs per session buy little; record more baseline sessions (`tachygate baseline update --append` at other times), and note the candidate's own session effect is a floor no baseline removes - `tachygate ab` (interleaved) avoids it",
            msb * 100.0,
            msw * 100.0 / 5f64.sqrt()
        )?;
    } else {
        writeln!(super::stdout(),
            "the within-session variance dominates (median sd {:.2} pp within, {:.2} pp between sessions): more runs per session (`repeats`) buy precision",
            msw * 100.0,
            msb * 100.0
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(mode: Mode, blocking: bool) -> SamplerSettings {
        SamplerSettings {
            mode,
            blocking,
            ..SamplerSettings::default()
        }
    }

    #[test]
    fn the_alternative_toggles_blocking_and_never_pairs_cpu_with_it() {
        let a = alternative_sampler(&sampler(Mode::Cpu, false));
        assert_eq!((a.mode, a.blocking), (Mode::Gil, true));
        let a = alternative_sampler(&sampler(Mode::Wall, false));
        assert_eq!((a.mode, a.blocking), (Mode::Wall, true));
        let a = alternative_sampler(&sampler(Mode::Gil, true));
        assert_eq!((a.mode, a.blocking), (Mode::Gil, false));
    }

    #[test]
    fn the_recommendation_follows_the_measured_error_rates() {
        let cpu = sampler(Mode::Cpu, false);
        let gil_b = sampler(Mode::Gil, true);
        // Call-heavy code: 41% without blocking, 1.4% with it.
        let r = sampler_recommendation(&cpu, Some(41.0), Some((&gil_b, Some(1.4))), 5.0);
        assert!(
            r.contains("use [sampler] mode = \"gil\", blocking = true"),
            "{r}"
        );
        // Already blocking, and unblocked is not better: keep.
        let gil = sampler(Mode::Gil, false);
        let r = sampler_recommendation(&gil_b, Some(1.5), Some((&gil, Some(3.0))), 5.0);
        assert!(
            r.contains("keep [sampler] mode = \"gil\", blocking = true"),
            "{r}"
        );
        // C-heavy code where both are low: blocking is still preferred (unbiased shares).
        let r = sampler_recommendation(&gil, Some(1.0), Some((&gil_b, Some(1.3))), 5.0);
        assert!(
            r.contains("use [sampler] mode = \"gil\", blocking = true"),
            "{r}"
        );
        // Both high: the machine is blamed.
        let r = sampler_recommendation(&gil_b, Some(12.0), Some((&gil, Some(30.0))), 5.0);
        assert!(
            r.contains("keep") && r.contains("machine is probably busy"),
            "{r}"
        );
        // Without a comparison: a high rate without blocking points at blocking.
        let r = sampler_recommendation(&cpu, Some(41.0), None, 5.0);
        assert!(
            r.contains("use [sampler] mode = \"gil\", blocking = true"),
            "{r}"
        );
        assert!(r.contains("--compare-sampler"), "{r}");
        let r = sampler_recommendation(&gil_b, Some(1.0), None, 5.0);
        assert!(r.contains("measured protocol"), "{r}");
    }

    #[test]
    fn detectable_shift_shrinks_with_runs_and_matches_formula() {
        // n = 5 per side, alpha 0.05, df 8 + 2 * 3 = 14: t_{0.975} = 2.145, t_{0.95} = 1.761.
        let d = detectable_shift(0.005, 5, 0.05);
        let expected = (2.145 + 1.761) * 0.005 * (2.0f64 / 5.0).sqrt();
        assert!((d - expected).abs() < 1e-4, "{d} vs {expected}");
        assert!(detectable_shift(0.005, 10, 0.05) < d);
        assert_eq!(runs_for(0.0, 0.01, 0.05), Some(2));
        assert_eq!(runs_for(1.0, 0.0001, 0.05), None);
    }

    #[test]
    fn sessions_shrink_the_baseline_part_but_not_the_candidates_session_effect() {
        let one = detectable_shift_sessions(0.005, 0.0, 1, 5, 0.05);
        assert!(
            (one - detectable_shift(0.005, 5, 0.05)).abs() < 0.002,
            "{one}"
        );
        let few = detectable_shift_sessions(0.005, 0.004, 1, 5, 0.05);
        let many = detectable_shift_sessions(0.005, 0.004, 10, 5, 0.05);
        assert!(many < few);
        // The candidate's own between-session variance remains however many sessions.
        let floor = detectable_shift_sessions(0.0, 0.004, 1000, 5, 0.05);
        assert!(many > floor && floor > 0.004 * 2.0, "{floor}");
    }
}
