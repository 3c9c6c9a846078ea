//! `tachygate baseline update`: (re)write `baselines/<scenario>.json` from results
//! directories, or by running the scenarios first. Only scenarios whose runs ALL succeeded are
//! written: a baseline with a silently missing run is how a gate starts lying.

use super::compare::usage;
use super::{exit, run::select_scenarios};
use crate::baseline::{baseline_path, sample_set_from_runs};
use crate::cli::Global;
use crate::run::{self, RunOptions, TerminalProgress};
use anyhow::Context;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write baselines from results directories (--from) or by running the scenarios now.
    Update(UpdateArgs),
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 every selected baseline written, 2 usage/config error, \
3 a scenario was skipped because a run failed (the others are still written)."
)]
pub struct UpdateArgs {
    /// Scenario names or globs [default: all].
    #[arg(value_name = "SCENARIO")]
    pub names: Vec<String>,
    /// Use these results directories (written by `tachygate run`) instead of running.
    #[arg(long, value_name = "RESULTS", num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// Scenario definitions: a scenario file or directory [default: scenarios/].
    #[arg(long, value_name = "PATH")]
    pub scenarios: Option<PathBuf>,
    /// Baselines directory.
    #[arg(
        long = "baselines",
        alias = "dir",
        value_name = "DIR",
        default_value = "baselines"
    )]
    pub dir: PathBuf,
    /// CPython 3.15+ interpreter (when running).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Runs per scenario when running (minimum 3) [default: each scenario's `repeats`].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(3..))]
    pub repeats: Option<u32>,
    /// Results directory when running [default: .tachygate/results/baseline-<UTC time>].
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<i32> {
    match args.command {
        Command::Update(a) => update(a, g),
    }
}

fn update(args: UpdateArgs, g: &Global) -> anyhow::Result<i32> {
    let scenario_paths: Vec<PathBuf> = args.scenarios.iter().cloned().collect();
    let from_results = !args.from.is_empty();
    // With --from, definitions are optional (ignore globs); without, they are what we run.
    let scenarios = if from_results && args.scenarios.is_none() {
        if PathBuf::from(crate::scenario::DEFAULT_DIR).is_dir() {
            select_scenarios(&scenario_paths, &[], &[], None)?
        } else {
            Vec::new()
        }
    } else {
        select_scenarios(&scenario_paths, &args.names, &[], None)?
    };
    let defs = crate::compare::sides::definitions(&scenarios);
    let mut interrupted = false;
    let mut all_runs = if from_results {
        run::load_results(&args.from).map_err(|e| usage(e.to_string()))?
    } else {
        if scenarios.is_empty() {
            return Err(usage("no scenarios selected".into()));
        }
        if let Some(p) = &args.python {
            crate::python::probe(p, "--python").map_err(|e| usage(e.to_string()))?;
        }
        let out = args.results.clone().unwrap_or_else(|| {
            run::default_results_dir(Some(&format!(
                "baseline-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            )))
        });
        let interrupt = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(sig, Arc::clone(&interrupt))
                .context("installing the SIGINT/SIGTERM handler")?;
        }
        let mut opts = RunOptions::new(out);
        opts.python = args.python.clone();
        opts.repeats = args.repeats;
        opts.interrupt = Some(interrupt);
        let progress = TerminalProgress::new(super::run::verbosity(g));
        let summary = run::run_scenarios(&scenarios, &opts, &progress)
            .context("writing the results directory")?;
        interrupted = summary.interrupted;
        summary.scenarios
    };
    if from_results && !args.names.is_empty() {
        let mut b = globset::GlobSetBuilder::new();
        for n in &args.names {
            b.add(globset::Glob::new(n).map_err(|e| usage(format!("{n:?}: {e}")))?);
        }
        let filter = b.build().map_err(|e| usage(e.to_string()))?;
        all_runs.retain(|r| filter.is_match(&r.scenario));
        if all_runs.is_empty() {
            return Err(usage(format!(
                "no runs of {} in the results directories",
                args.names.join(", ")
            )));
        }
    }
    let source = if from_results {
        args.from
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        "tachygate baseline update".to_string()
    };
    let mut skipped = 0;
    for runs in &all_runs {
        let name = &runs.scenario;
        let def = defs.get(name);
        if def.is_none() && !g.quiet {
            eprintln!("tachygate: {name}: no scenario definition found; no ignore globs applied");
        }
        let built =
            sample_set_from_runs(runs, def, false, &source).map_err(|e| usage(e.to_string()))?;
        let path = baseline_path(&args.dir, name);
        match built.set {
            Some(set) if built.excluded.is_empty() && set.runs.len() >= 2 => {
                set.save(&path)?;
                if !g.quiet {
                    println!(
                        "wrote {} ({} runs, {} samples)",
                        path.display(),
                        set.runs.len(),
                        set.total_samples()
                    );
                }
            }
            set => {
                skipped += 1;
                let mut why = built.excluded.clone();
                if set.as_ref().is_some_and(|s| s.runs.len() < 2) || set.is_none() {
                    why.push("fewer than 2 usable runs".into());
                }
                println!(
                    "skipped {name}: not every run succeeded ({}); {} left unchanged",
                    why.join("; "),
                    path.display()
                );
            }
        }
    }
    if interrupted {
        return Ok(super::run::INTERRUPTED);
    }
    Ok(if skipped > 0 {
        exit::RUN_FAILED
    } else {
        exit::OK
    })
}
