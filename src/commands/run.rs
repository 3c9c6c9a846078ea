//! `tachygate run`: discover and select scenarios, run them under the profiler, write a results
//! directory. Exit 0 when every run is usable, 3 when any failed, 130 when interrupted.

use super::common::Global;
use super::common::{interrupt_flag, select_scenarios, verbosity};
use crate::exit::{usage, Exit};
use crate::run::{self, RunOptions, TerminalProgress, Verbosity};
use crate::scenario::{self, Shard};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or directories (searched recursively for *.toml) [default: scenarios/]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// A scenario file or directory, like PATHS (repeatable).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// CPython 3.15+ interpreter for every scenario (overrides the scenarios' `python`).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Results directory [default: .tachygate/results/<label or UTC timestamp>]
    #[arg(long = "results", alias = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Name for this run: recorded in the manifest and used as the default directory name.
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
    /// Runs per scenario, overriding each scenario's `repeats` (minimum 3).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(3..))]
    pub repeats: Option<u32>,
    /// Run only shard K of N (1-based), chosen by a hash of the scenario name.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Scenarios run at once. Anything above 1 distorts measurements (the sampler busy-polls a
    /// core); use it only to smoke-test scenarios.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Only scenarios with this tag (repeatable; any tag matches).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only scenarios with this name or glob (repeatable).
    #[arg(long = "scenario", short = 's', value_name = "NAME")]
    pub names: Vec<String>,
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    let shard = args.shard;
    if let Some(label) = &args.label {
        if label.is_empty() || label.contains('/') || label == "." || label == ".." {
            return Err(usage(format!(
                "--label `{label}` must be a non-empty name without `/` (it becomes a directory name)"
            )));
        }
    }
    let scenarios = select_scenarios(&args.paths, &args.names, &args.tags, shard)?;
    for s in &scenarios {
        scenario::preflight(s)?;
    }
    // An explicit --python that does not work is a configuration error, not a run failure.
    if let Some(p) = &args.python {
        crate::python::probe(p, "--python")?;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| run::default_results_dir(args.label.as_deref()));
    let interrupt = interrupt_flag()?;
    let mut opts = RunOptions::new(out);
    opts.label = args.label.clone();
    opts.python = args.python.clone();
    opts.repeats = args.repeats;
    opts.shard = shard;
    opts.jobs = args.jobs as usize;
    opts.interrupt = Some(interrupt);
    let verbosity = verbosity(g);
    if scenarios.is_empty() && verbosity != Verbosity::Quiet {
        eprintln!(
            "tachygate: no scenarios selected{}",
            shard.map(|s| format!(" for shard {s}")).unwrap_or_default()
        );
    }
    if args.jobs > 1 && verbosity != Verbosity::Quiet {
        eprintln!("tachygate: warning: --jobs {} runs profiled workloads concurrently; their measurements disturb each other", args.jobs);
    }
    let progress = TerminalProgress::new(verbosity);
    let summary = run::run_scenarios(&scenarios, &opts, &progress)
        .context("writing the results directory")?;
    let failed: Vec<String> = summary
        .scenarios
        .iter()
        .flat_map(|s| {
            s.records
                .iter()
                .filter(|(r, _)| !r.outcome.is_ok())
                .map(move |(r, _)| {
                    format!("{} run {}: {}", s.scenario, r.index + 1, run::explain(r))
                })
        })
        .collect();
    if summary.interrupted {
        eprintln!(
            "tachygate: interrupted; completed runs are kept in {}",
            summary.results_dir.display()
        );
        return Ok(Exit::Interrupted);
    }
    if verbosity != Verbosity::Quiet {
        let runs: usize = summary.scenarios.iter().map(|s| s.records.len()).sum();
        eprintln!(
            "tachygate: {} scenario(s), {runs} run(s), {} failed; results in {}",
            summary.scenarios.len(),
            failed.len(),
            summary.results_dir.display()
        );
    }
    writeln!(super::stdout(), "{}", summary.results_dir.display())?;
    if failed.is_empty() {
        Ok(Exit::Pass)
    } else {
        for f in &failed {
            eprintln!("tachygate: failed: {f}");
        }
        Ok(Exit::Failure)
    }
}
