//! `tachygate check`: the CI gate. Runs the selected scenarios, compares each against
//! `baselines/<scenario>.json`, writes reports into `reports/<label>/`, prints the table and
//! exits 0 (no regression), 1 (regression or budget breach), 2 (usage/config, refused
//! comparison) or 3 (a run failed).
//!
//! A scenario without a baseline is not run and does not fail the gate (adding a scenario
//! must not break CI before its baseline exists); the message says how to create it.
//! `--require-baselines` makes it an error (exit 2).

use super::compare::{publish, usage, GateArgs, ReportArgs};
use super::{exit, run::select_scenarios};
use crate::baseline::{baseline_path, sample_set_from_runs, SampleSet};
use crate::cli::Global;
use crate::compare::sides::{self, Outcome, OutcomeKind, Side};
use crate::compare::{build_report, error_comparison};
use crate::run::{self, RunOptions, TerminalProgress};
use crate::scenario::Shard;
use anyhow::Context;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no regression, 1 regression or budget breach \
(--fail-on improved: also improvements), 2 usage/config error or refused comparison, 3 a run failed, \
130 interrupted."
)]
pub struct Args {
    /// Scenario files or directories [default: the project's scenarios/, found at or above the
    /// current directory].
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// A scenario file or directory, like PATHS (repeatable).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Only scenarios with this name or glob (repeatable).
    #[arg(long = "scenario", short = 's', value_name = "NAME")]
    pub names: Vec<String>,
    /// Only scenarios with this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Run only shard K of N (see `tachygate run --shard`).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Baselines directory [default: baselines/ beside the project's scenarios/].
    #[arg(long, value_name = "DIR")]
    pub baselines: Option<PathBuf>,
    /// Compare these results directories instead of running (e.g. CI shards).
    #[arg(long, value_name = "RESULTS", num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// Results directory for this run [default: .tachygate/results/<label>-<UTC time>].
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// CPython 3.15+ interpreter for every scenario.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Runs per scenario (minimum 3) [default: each scenario's `repeats`].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(3..))]
    pub repeats: Option<u32>,
    /// A scenario without a baseline is an error (exit 2) instead of being skipped.
    #[arg(long)]
    pub require_baselines: bool,
    /// Paired gate: run this revision (e.g. the PR's merge base) interleaved with the candidate
    /// on this machine and compare the two; no baselines are read.
    #[arg(long, value_name = "REV", conflicts_with_all = ["from", "require_baselines"])]
    pub base: Option<String>,
    /// With --base: the candidate revision [default: the working tree, uncommitted changes
    /// included].
    #[arg(long, value_name = "REV", requires = "base")]
    pub head: Option<String>,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<i32> {
    if args.base.is_some() {
        return super::paired::check(args, g);
    }
    let (label, formats, out) = args.report.resolve("check")?;
    let shard = args
        .shard
        .as_deref()
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(|e| usage(e.to_string()))?;
    // Defaults are the project's, not the current directory's: `check` from docs/ must run
    // the same scenarios against the same baselines as from the root.
    let root = std::env::current_dir()
        .ok()
        .and_then(|d| crate::baseline::find_project_root(&d));
    let paths = match (&args.paths[..], &root) {
        ([], Some(r)) => vec![r.join(crate::scenario::DEFAULT_DIR)],
        _ => args.paths.clone(),
    };
    let baselines = args.baselines.clone().unwrap_or_else(|| {
        root.as_deref()
            .map_or_else(|| PathBuf::from("baselines"), |r| r.join("baselines"))
    });
    let scenarios = select_scenarios(&paths, &args.names, &args.tags, shard)?;
    if scenarios.is_empty() {
        return Err(usage("no scenarios selected".into()));
    }
    let opts = args.gate.options();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut baseline = Side::default();
    let mut to_run = Vec::new();
    for s in &scenarios {
        let path = baseline_path(&baselines, &s.name);
        if !path.is_file() {
            let msg = format!(
                "no baseline for scenario {} ({}); create it with: tachygate baseline update {}",
                s.name,
                path.display(),
                s.name
            );
            if args.require_baselines {
                outcomes.push(Outcome {
                    comparison: error_comparison(
                        &s.name,
                        opts.confidence,
                        None,
                        None,
                        vec![msg],
                        Vec::new(),
                    ),
                    kind: OutcomeKind::Refused,
                });
            } else if !g.quiet {
                eprintln!("tachygate: {msg} (skipped)");
            }
            continue;
        }
        let set = SampleSet::load(&path).map_err(|e| usage(e.to_string()))?;
        if set.scenario != s.name {
            return Err(usage(format!(
                "{} holds scenario {:?}, expected {:?}",
                path.display(),
                set.scenario,
                s.name
            )));
        }
        baseline.sets.insert(s.name.clone(), set);
        to_run.push(s.clone());
    }

    let mut interrupted = false;
    let mut candidate = Side::default();
    if !to_run.is_empty() {
        let all_runs = if args.from.is_empty() {
            if let Some(p) = &args.python {
                crate::python::probe(p, "--python").map_err(|e| usage(e.to_string()))?;
            }
            let dir = args.results.clone().unwrap_or_else(|| {
                run::default_results_dir(Some(&format!(
                    "{label}-{}",
                    chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
                )))
            });
            let interrupt = Arc::new(AtomicBool::new(false));
            for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(sig, Arc::clone(&interrupt))
                    .context("installing the SIGINT/SIGTERM handler")?;
            }
            let mut ropts = RunOptions::new(dir);
            ropts.label = Some(label.clone());
            ropts.python = args.python.clone();
            ropts.repeats = args.repeats;
            ropts.shard = shard;
            ropts.interrupt = Some(interrupt);
            let progress = TerminalProgress::new(super::run::verbosity(g));
            let summary = run::run_scenarios(&to_run, &ropts, &progress)
                .context("writing the results directory")?;
            interrupted = summary.interrupted;
            summary.scenarios
        } else {
            run::load_results(&args.from).map_err(|e| usage(e.to_string()))?
        };
        let defs = sides::definitions(&to_run);
        for runs in &all_runs {
            let Some(def) = defs.get(&runs.scenario) else {
                continue;
            };
            let source = format!("{label} ({})", runs.scenario);
            let built = sample_set_from_runs(runs, Some(def), true, &source)
                .map_err(|e| usage(e.to_string()))?;
            if !built.excluded.is_empty() {
                candidate
                    .excluded
                    .insert(runs.scenario.clone(), built.excluded.clone());
            }
            if let Some(set) = built.set {
                candidate.sets.insert(runs.scenario.clone(), set);
            }
        }
        // A scenario with a baseline but no runs at all (interrupted, or missing from --from).
        for s in &to_run {
            if !candidate.sets.contains_key(&s.name) && !candidate.excluded.contains_key(&s.name) {
                candidate
                    .excluded
                    .insert(s.name.clone(), vec!["no runs recorded".into()]);
            }
        }
        let compared = sides::compare_sides(&baseline, &candidate, &defs, &opts);
        for mut o in compared.outcomes {
            o.comparison.reproduce = Some(format!(
                "tachygate check --scenario {}",
                o.comparison.scenario
            ));
            outcomes.push(o);
        }
    }
    outcomes.sort_by(|a, b| a.comparison.scenario.cmp(&b.comparison.scenario));
    if outcomes.is_empty() {
        eprintln!(
            "tachygate: nothing to check: no selected scenario has a baseline in {}",
            baselines.display()
        );
        return Ok(exit::OK);
    }
    let code = sides::exit_code(&outcomes);
    let report = build_report(&label, outcomes.into_iter().map(|o| o.comparison).collect());
    publish(&report, &out, &formats, g)?;
    if interrupted {
        return Ok(super::run::INTERRUPTED);
    }
    Ok(code)
}
