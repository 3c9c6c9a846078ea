//! `tachygate check`: the CI gate. Runs the selected scenarios, compares each against
//! `baselines/<scenario>.json`, writes reports into `reports/<label>/`, prints the table and
//! exits 0 (no regression), 1 (regression or budget breach), 2 (usage/config, refused
//! comparison) or 3 (a run failed).
//!
//! A scenario without a baseline is not run and does not fail the gate (adding a scenario
//! must not break CI before its baseline exists); the message says how to create it.
//! `--require-baselines` makes it an error (exit 2).
//!
//! Only a baseline of this machine's class is compared (`baselines/<scenario>/<class>.json`,
//! or a version 1 `baselines/<scenario>.json` recorded on this class). A scenario whose
//! baselines are all of other classes gets the status `no_baseline_for_machine`: in every
//! report, exit 0 (a notice says why and how to record one), or exit 2 with
//! `--require-baselines`. Another class's data can never produce a verdict.

use super::common::Global;
use super::common::{interrupt_flag, publish, select_scenarios, verbosity, GateArgs, ReportArgs};
use super::paired::{compare_revisions, finish, Paired, Request};
use crate::baseline::{for_class, sample_set_from_runs, scenario_baselines, SampleSet};
use crate::compare::error_comparison;
use crate::compare::sides::{self, Outcome, OutcomeKind, Side};
use crate::exit::{self, usage, Exit};
use crate::report::build_report;
use crate::run::{self, MachineClass, RunOptions, ScenarioRuns, TerminalProgress};
use crate::scenario::{Scenario, Shard};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(
    after_help = exit::help_for(&Exit::ALL, &[
        (Exit::Regression, "regression or budget breach (--fail-on improved: also improvements)"),
        (Exit::Usage, "usage/config error or refused comparison"),
    ])
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
    pub shard: Option<Shard>,
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
    /// A scenario without a baseline - none at all, or none for this machine class - is an
    /// error (exit 2) instead of being skipped.
    #[arg(long, alias = "require-baseline")]
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

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    if args.base.is_some() {
        return paired_check(args, g);
    }
    let (label, formats, out) = args.report.resolve("check")?;
    let (scenarios, baselines) = select(&args)?;
    let opts = args.gate.options();
    let Plan {
        mut outcomes,
        available,
        to_run,
    } = plan(&args, &scenarios, &baselines, opts.confidence)?;

    let mut interrupted = false;
    if !to_run.is_empty() {
        let (all_runs, stopped) = run_candidates(&args, &label, &to_run, g)?;
        interrupted = stopped;
        let defs = sides::definitions(&to_run);
        let mut candidate = candidate_side(&all_runs, &defs, &label)?;
        let baseline = pair_baselines(
            &args,
            &baselines,
            &to_run,
            &available,
            &mut candidate,
            &mut outcomes,
            opts.confidence,
        );
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
        return Ok(Exit::Pass);
    }
    let code = sides::exit_code(&outcomes);
    let report = build_report(&label, outcomes.into_iter().map(|o| o.comparison).collect());
    publish(&report, &out, &formats, g)?;
    if interrupted {
        return Ok(Exit::Interrupted);
    }
    Ok(code)
}

/// The selected scenarios and the baselines directory.
fn select(args: &Args) -> anyhow::Result<(Vec<Scenario>, PathBuf)> {
    // Defaults are the project's, not the current directory's: `check` from docs/ must run
    // the same scenarios against the same baselines as from the root.
    let root = crate::scenario::project_root();
    let paths = match (&args.paths[..], &root) {
        ([], Some(r)) => vec![r.join(crate::scenario::DEFAULT_DIR)],
        _ => args.paths.clone(),
    };
    let baselines = args.baselines.clone().unwrap_or_else(|| {
        root.as_deref()
            .map_or_else(|| PathBuf::from("baselines"), |r| r.join("baselines"))
    });
    let scenarios = select_scenarios(&paths, &args.names, &args.tags, args.shard)?;
    if scenarios.is_empty() {
        return Err(usage("no scenarios selected".into()));
    }
    Ok((scenarios, baselines))
}

/// What to do with each selected scenario before anything runs.
struct Plan {
    /// Scenarios already settled: no baseline at all, or none for this machine's class.
    outcomes: Vec<Outcome>,
    /// Every scenario to run's baselines, of any machine class; which one is compared is
    /// decided by the candidate's class.
    available: BTreeMap<String, Vec<(PathBuf, SampleSet)>>,
    to_run: Vec<Scenario>,
}

/// Loads each scenario's baselines and settles those that have nothing to be compared with.
fn plan(
    args: &Args,
    scenarios: &[Scenario],
    baselines: &Path,
    confidence: f64,
) -> anyhow::Result<Plan> {
    let mut plan = Plan {
        outcomes: Vec::new(),
        available: BTreeMap::new(),
        to_run: Vec::new(),
    };
    let mut predictor = ClassPredictor::new(args.from.is_empty(), args.python.clone());
    for s in scenarios {
        let found = scenario_baselines(baselines, &s.name)?;
        if found.is_empty() {
            plan.outcomes.push(missing_baseline_outcome(
                args, baselines, &s.name, confidence,
            ));
            continue;
        }
        // Known before running: do not spend runs on a scenario that has nothing to be
        // compared with on this machine.
        if let Some(class) = predictor.class(s) {
            if for_class(&found, &class.id).is_none() {
                plan.outcomes.push(no_baseline_outcome(
                    args, baselines, &s.name, &class, &found, None, confidence,
                ));
                continue;
            }
        }
        plan.available.insert(s.name.clone(), found);
        plan.to_run.push(s.clone());
    }
    Ok(plan)
}

/// The outcome for a scenario without any baseline: skipped (exit 0), or with
/// `--require-baselines` an error (exit 2).
fn missing_baseline_outcome(
    args: &Args,
    baselines: &Path,
    scenario: &str,
    confidence: f64,
) -> Outcome {
    if args.require_baselines {
        let msg = format!(
            "no baseline for scenario {} (in {}); create it with: {}",
            scenario,
            baselines.display(),
            record_command(scenario, baselines)
        );
        Outcome {
            comparison: error_comparison(scenario, confidence, None, None, vec![msg], Vec::new()),
            kind: OutcomeKind::Refused,
        }
    } else {
        Outcome {
            comparison: sides::missing_baseline_comparison(
                scenario,
                confidence,
                baselines,
                &record_command(scenario, baselines),
            ),
            kind: OutcomeKind::NoBaseline,
        }
    }
}

/// The candidate's runs: measured now, or read from `--from` results directories. The flag
/// says the run was interrupted.
fn run_candidates(
    args: &Args,
    label: &str,
    to_run: &[Scenario],
    g: &Global,
) -> anyhow::Result<(Vec<ScenarioRuns>, bool)> {
    if !args.from.is_empty() {
        return Ok((run::load_results(&args.from)?, false));
    }
    if let Some(p) = &args.python {
        crate::python::probe(p, "--python")?;
    }
    let dir = args.results.clone().unwrap_or_else(|| {
        run::default_results_dir(Some(&format!(
            "{label}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )))
    });
    let interrupt = interrupt_flag()?;
    let mut ropts = RunOptions::new(dir);
    ropts.label = Some(label.to_string());
    ropts.python = args.python.clone();
    ropts.repeats = args.repeats;
    ropts.shard = args.shard;
    ropts.interrupt = Some(interrupt);
    let progress = TerminalProgress::new(verbosity(g));
    let summary =
        run::run_scenarios(to_run, &ropts, &progress).context("writing the results directory")?;
    Ok((summary.scenarios, summary.interrupted))
}

/// The candidate side: one sample set per scenario with usable runs, and why runs were left out.
fn candidate_side(
    all_runs: &[ScenarioRuns],
    defs: &BTreeMap<String, Scenario>,
    label: &str,
) -> anyhow::Result<Side> {
    let mut candidate = Side::default();
    for runs in all_runs {
        let Some(def) = defs.get(&runs.scenario) else {
            continue;
        };
        let source = format!("{label} ({})", runs.scenario);
        let built = sample_set_from_runs(runs, Some(def), true, &source)?;
        if !built.excluded.is_empty() {
            candidate
                .excluded
                .insert(runs.scenario.clone(), built.excluded.clone());
        }
        if let Some(set) = built.set {
            candidate.sets.insert(runs.scenario.clone(), set);
        }
    }
    Ok(candidate)
}

/// The baseline side: per scenario, the baseline of the candidate's own machine class (its
/// runs say which), never another class's. A scenario without one leaves the candidate side
/// and gets its outcome here.
fn pair_baselines(
    args: &Args,
    baselines: &Path,
    to_run: &[Scenario],
    available: &BTreeMap<String, Vec<(PathBuf, SampleSet)>>,
    candidate: &mut Side,
    outcomes: &mut Vec<Outcome>,
    confidence: f64,
) -> Side {
    let mut baseline = Side::default();
    for s in to_run {
        let found = &available[&s.name];
        match candidate.sets.get(&s.name).map(SampleSet::class) {
            Some(class) => match for_class(found, &class.id) {
                Some((_, set)) => {
                    baseline.sets.insert(s.name.clone(), set.clone());
                }
                None => {
                    let cand = candidate.sets.remove(&s.name);
                    candidate.excluded.remove(&s.name);
                    outcomes.push(no_baseline_outcome(
                        args,
                        baselines,
                        &s.name,
                        &class,
                        found,
                        cand.as_ref(),
                        confidence,
                    ));
                }
            },
            // No usable candidate run: the entry can only be an error (runs failed), so
            // any baseline serves to report it and none can produce a verdict.
            None => {
                baseline.sets.insert(s.name.clone(), found[0].1.clone());
            }
        }
    }
    // A scenario with a baseline but no runs at all (interrupted, or missing from --from).
    for s in to_run {
        if baseline.sets.contains_key(&s.name)
            && !candidate.sets.contains_key(&s.name)
            && !candidate.excluded.contains_key(&s.name)
        {
            candidate
                .excluded
                .insert(s.name.clone(), vec!["no runs recorded".into()]);
        }
    }
    baseline
}

/// `tachygate check --base REV [--head REV]`: the paired gate.
fn paired_check(args: Args, g: &Global) -> anyhow::Result<Exit> {
    let (label, formats, out) = args.report.resolve("check")?;
    let shard = args.shard;
    let base_rev = args.base.clone().unwrap_or_default();
    let req = Request {
        base_rev: base_rev.clone(),
        head_rev: args.head.clone(),
        paths: args.paths.clone(),
        paths_from_repo_root: false,
        names: args.names.clone(),
        tags: args.tags.clone(),
        shard,
        repeats: args.repeats,
        python: args.python.clone(),
        results: args.results.clone(),
        label: label.clone(),
    };
    let head = args
        .head
        .as_ref()
        .map(|h| format!(" --head {h}"))
        .unwrap_or_default();
    let reproduce =
        |scenario: &str| format!("tachygate check --base {base_rev}{head} --scenario {scenario}");
    let outcomes = match compare_revisions(&req, &args.gate.options(), g)? {
        Paired::Interrupted => return Ok(Exit::Interrupted),
        Paired::NothingInCommon => {
            eprintln!(
                "tachygate: nothing to check: no selected scenario exists in both {base_rev} and the candidate"
            );
            return Ok(Exit::Pass);
        }
        Paired::Compared(o) => o,
    };
    finish(outcomes, &label, &formats, &out, g, reproduce)
}

/// `tachygate baseline update NAME`, with `--baselines` when the baselines are not in the default
/// directory: the exact command that records what is missing.
fn record_command(scenario: &str, baselines: &Path) -> String {
    if baselines == Path::new("baselines") {
        format!("tachygate baseline update {scenario}")
    } else {
        format!(
            "tachygate baseline update {scenario} --baselines {}",
            baselines.display()
        )
    }
}

/// The outcome for a scenario whose baselines are all of other machine classes: status
/// `no_baseline_for_machine` (exit 0), or with `--require-baselines` an error (exit 2).
fn no_baseline_outcome(
    args: &Args,
    baselines: &Path,
    scenario: &str,
    class: &MachineClass,
    found: &[(PathBuf, SampleSet)],
    candidate: Option<&SampleSet>,
    confidence: f64,
) -> Outcome {
    let others: Vec<(PathBuf, String)> = found
        .iter()
        .map(|(p, s)| (p.clone(), s.class().id))
        .collect();
    let cmp = sides::no_baseline_comparison(
        scenario,
        confidence,
        class,
        &others,
        &record_command(scenario, baselines),
        candidate,
    );
    if args.require_baselines {
        let mut errors = cmp.warnings.clone();
        errors.push("--require-baselines: a missing baseline fails the gate (exit 2)".into());
        Outcome {
            comparison: error_comparison(scenario, confidence, None, candidate, errors, Vec::new()),
            kind: OutcomeKind::Refused,
        }
    } else {
        Outcome {
            comparison: cmp,
            kind: OutcomeKind::NoBaseline,
        }
    }
}

/// This machine's class for each scenario's interpreter, before anything runs (host facts
/// plus a probe of the interpreter the runner would use, cached per path). `None` when
/// comparing existing results (their records say which class they are) or when the
/// interpreter cannot be probed (the runner will report that).
struct ClassPredictor {
    host: Option<run::Host>,
    flag: Option<PathBuf>,
    cache: BTreeMap<PathBuf, Option<MachineClass>>,
}

impl ClassPredictor {
    fn new(running: bool, flag: Option<PathBuf>) -> Self {
        ClassPredictor {
            host: running.then(run::Host::probe),
            flag,
            cache: BTreeMap::new(),
        }
    }

    fn class(&mut self, s: &Scenario) -> Option<MachineClass> {
        let host = self.host.as_ref()?;
        let probed = crate::python::locate(self.flag.as_deref(), s.workload.python.as_deref())
            .and_then(|(path, origin)| {
                self.cache
                    .entry(path.clone())
                    .or_insert_with(|| {
                        crate::python::probe(&path, origin)
                            .ok()
                            .map(|py| host.class_for(&py))
                    })
                    .clone()
            });
        // With TACHYGATE_MACHINE_CLASS the id does not depend on the interpreter.
        probed.or_else(|| {
            run::machine_class_override().map(|_| {
                let py = crate::python::Interpreter {
                    path: PathBuf::new(),
                    version: "unknown".into(),
                    major: 0,
                    minor: 0,
                    micro: 0,
                };
                host.class_for(&py)
            })
        })
    }
}
