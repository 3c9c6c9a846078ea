//! `tachygate baseline update`: (re)write `baselines/<scenario>/<machine class>.json` from
//! results directories, or by running the scenarios first. Only scenarios whose runs ALL
//! succeeded are written: a baseline with a silently missing run is how a gate starts lying.
//! `--append` adds the runs to the existing baseline of the same class as a new recording
//! session instead of replacing it (sessions feed the between-session variance).

use super::common::Global;
use super::common::{interrupt_flag, select_scenarios, verbosity};
use crate::baseline::{baseline_path, legacy_baseline_path, sample_set_from_runs, SampleSet};
use crate::exit::{self, usage, Exit};
use crate::run::{self, RunOptions, ScenarioRuns, TerminalProgress};
use crate::scenario::Scenario;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    after_help = exit::help_for(&[Exit::Pass, Exit::Usage, Exit::Failure, Exit::Interrupted], &[
        (Exit::Pass, "every selected baseline written"),
        (Exit::Usage, "usage/config error"),
        (Exit::Failure, "a scenario was skipped because a run failed (the others are still written)"),
    ])
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
    /// Baselines directory [default: the project's baselines/, next to its scenarios/].
    #[arg(long = "baselines", alias = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// CPython 3.15+ interpreter (when running).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Runs per scenario when running (minimum 3) [default: each scenario's `repeats`].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(3..))]
    pub repeats: Option<u32>,
    /// Results directory when running [default: .tachygate/results/baseline-<UTC time>].
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Add the runs to this machine class's existing baseline as a new recording session
    /// (instead of replacing it). Several sessions let the gate measure session-to-session
    /// drift; without an existing baseline, one is created.
    #[arg(long)]
    pub append: bool,
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    match args.command {
        Command::Update(a) => update(a, g),
    }
}

fn update(mut args: UpdateArgs, g: &Global) -> anyhow::Result<Exit> {
    // The project's baselines/, not the current directory's (see `scenario::project_root`).
    let dir = args
        .dir
        .take()
        .unwrap_or_else(|| crate::scenario::in_project("baselines"));
    let from_results = !args.from.is_empty();
    let scenarios = select(&args, from_results)?;
    let defs = crate::compare::sides::definitions(&scenarios);
    let (all_runs, interrupted) = if from_results {
        (
            named_runs(run::load_results(&args.from)?, &args.names)?,
            false,
        )
    } else {
        run_scenarios(&args, &scenarios, g)?
    };
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
        let built = sample_set_from_runs(runs, def, false, &source)?;
        match built.set {
            Some(set) if built.excluded.is_empty() && set.runs.len() >= 2 => {
                write_baseline(&dir, name, set, args.append, g)?;
            }
            set => {
                skipped += 1;
                let mut why = built.excluded.clone();
                if set.as_ref().is_some_and(|s| s.runs.len() < 2) || set.is_none() {
                    why.push("fewer than 2 usable runs".into());
                }
                writeln!(super::stdout(),
                    "skipped {name}: not every run succeeded ({}); its baselines in {} are left unchanged",
                    why.join("; "),
                    dir.display()
                )?;
            }
        }
    }
    if interrupted {
        return Ok(Exit::Interrupted);
    }
    Ok(if skipped > 0 {
        Exit::Failure
    } else {
        Exit::Pass
    })
}

/// The scenario definitions. With --from they are optional (only their ignore globs are
/// used); without, they are what is run.
fn select(args: &UpdateArgs, from_results: bool) -> anyhow::Result<Vec<Scenario>> {
    let scenario_paths: Vec<PathBuf> = args.scenarios.iter().cloned().collect();
    if from_results && args.scenarios.is_none() {
        if crate::scenario::default_dir().is_dir() {
            Ok(select_scenarios(&scenario_paths, &[], &[], None)?)
        } else {
            Ok(Vec::new())
        }
    } else {
        Ok(select_scenarios(&scenario_paths, &args.names, &[], None)?)
    }
}

/// Runs the scenarios now; the flag says the run was interrupted.
fn run_scenarios(
    args: &UpdateArgs,
    scenarios: &[Scenario],
    g: &Global,
) -> anyhow::Result<(Vec<ScenarioRuns>, bool)> {
    if scenarios.is_empty() {
        return Err(usage("no scenarios selected".into()));
    }
    if let Some(p) = &args.python {
        crate::python::probe(p, "--python")?;
    }
    let out = args.results.clone().unwrap_or_else(|| {
        run::default_results_dir(Some(&format!(
            "baseline-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )))
    });
    let interrupt = interrupt_flag()?;
    let mut opts = RunOptions::new(out);
    opts.python = args.python.clone();
    opts.repeats = args.repeats;
    opts.interrupt = Some(interrupt);
    let progress = TerminalProgress::new(verbosity(g));
    let summary =
        run::run_scenarios(scenarios, &opts, &progress).context("writing the results directory")?;
    Ok((summary.scenarios, summary.interrupted))
}

/// With --from and NAME globs: only the matching scenarios' runs; none is a usage error.
fn named_runs(
    mut all_runs: Vec<ScenarioRuns>,
    names: &[String],
) -> anyhow::Result<Vec<ScenarioRuns>> {
    if names.is_empty() {
        return Ok(all_runs);
    }
    let mut b = globset::GlobSetBuilder::new();
    for n in names {
        b.add(globset::Glob::new(n).with_context(|| format!("{n:?}"))?);
    }
    let filter = b.build()?;
    all_runs.retain(|r| filter.is_match(&r.scenario));
    if all_runs.is_empty() {
        return Err(usage(format!(
            "no runs of {} in the results directories",
            names.join(", ")
        )));
    }
    Ok(all_runs)
}

/// Writes (or with `append`, extends) the baseline of `set`'s machine class and retires a
/// version 1 file of the same class.
fn write_baseline(
    dir: &Path,
    name: &str,
    set: SampleSet,
    append: bool,
    g: &Global,
) -> anyhow::Result<()> {
    let class = set.class();
    let path = baseline_path(dir, name, &class.id);
    let legacy = legacy_baseline_path(dir, name);
    // A version 1 file of the same class is this baseline's older form: appended
    // to (with --append), then superseded by the class file either way.
    let legacy_same_class =
        legacy.is_file() && SampleSet::load(&legacy).is_ok_and(|l| l.class().id == class.id);
    let existing = if path.is_file() {
        Some(path.clone())
    } else if legacy_same_class {
        Some(legacy.clone())
    } else {
        None
    };
    let (to_write, sessions) = match (&existing, append) {
        (Some(old_path), true) => {
            let mut old = SampleSet::load(old_path)?;
            old.append_session(set, &path)?;
            let n = old.session_count();
            (old, n)
        }
        _ => (set, 1),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut to_write = to_write;
    // Baselines are committed and read on other machines: an interpreter inside
    // the project is recorded relative to the project, not as this machine's path.
    if let Some(root) = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.parent().map(Path::to_path_buf))
    {
        if let Ok(rel) = to_write.environment.python_path.strip_prefix(&root) {
            to_write.environment.python_path = rel.to_path_buf();
        }
    }
    to_write.save(&path)?;
    if legacy_same_class {
        std::fs::remove_file(&legacy).with_context(|| format!("removing {}", legacy.display()))?;
    }
    if !g.quiet {
        writeln!(
            super::stdout(),
            "wrote {} ({} runs in {} session(s), {} samples; machine class {})",
            path.display(),
            to_write.runs.len(),
            sessions,
            to_write.total_samples(),
            class.id
        )?;
        if legacy_same_class {
            writeln!(
                super::stdout(),
                "removed {}: the version 1 baseline of the same machine class, superseded by {}",
                legacy.display(),
                path.display()
            )?;
        }
    }
    Ok(())
}
