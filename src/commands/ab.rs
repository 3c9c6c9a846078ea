//! `tachygate ab BASE_REV [HEAD_REV]`: compare two git revisions on this machine, now.
//!
//! Both revisions are checked out with `git worktree add --detach` into a temporary directory
//! (removed afterwards, also on error and Ctrl-C), and each scenario's repeats run interleaved
//! A, B, A, B, ... so that drift and background load hit both sides alike - the measured load
//! effects on these machines shift shares by points, more than many regressions.

use super::compare::{publish, usage, GateArgs, ReportArgs};
use super::{exit, run::select_scenarios};
use crate::baseline::sample_set_from_runs;
use crate::cli::Global;
use crate::compare::build_report;
use crate::compare::sides::{self, Side};
use crate::run::{self, RunOptions, ScenarioRuns, TerminalProgress};
use crate::scenario::Scenario;
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no regression, 1 regression or budget breach, 2 usage error \
(bad revision, not a git repository, refused comparison), 3 a run failed, 130 interrupted."
)]
pub struct Args {
    /// The baseline revision (A): anything `git rev-parse` accepts.
    pub base_rev: String,
    /// The candidate revision (B).
    #[arg(default_value = "HEAD")]
    pub head_rev: String,
    /// Scenario files or directories, relative to the repository root [default: scenarios/].
    #[arg(long = "scenarios", alias = "path", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only scenarios with this name or glob (repeatable).
    #[arg(long = "scenario", short = 's', value_name = "NAME")]
    pub names: Vec<String>,
    /// Only scenarios with this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Runs per side (minimum 3) [default: the scenario's `repeats`].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(3..))]
    pub repeats: Option<u32>,
    /// CPython 3.15+ interpreter for both sides.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Results directory (keeps both sides' profiles) [default: .tachygate/results/<label>].
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !out.status.success() {
        return Err(usage(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Removes the worktrees (and, via the `TempDir`, their directory) when dropped: on success,
/// on error and after an interrupt alike.
struct Worktrees {
    repo: PathBuf,
    paths: Vec<PathBuf>,
    _dir: tempfile::TempDir,
}

impl Drop for Worktrees {
    fn drop(&mut self) {
        for p in &self.paths {
            let _ = Command::new("git")
                .arg("-C")
                .arg(&self.repo)
                .args(["worktree", "remove", "--force"])
                .arg(p)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
        let _ = Command::new("git")
            .arg("-C")
            .arg(&self.repo)
            .args(["worktree", "prune"])
            .stdin(std::process::Stdio::null())
            .status();
    }
}

/// A scenario path given relative to the repository (or absolute inside it), mapped into a
/// worktree.
fn in_worktree(repo: &Path, wt: &Path, p: &Path) -> PathBuf {
    let rel = if p.is_absolute() {
        p.strip_prefix(repo).unwrap_or(p).to_path_buf()
    } else {
        p.to_path_buf()
    };
    wt.join(rel)
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<i32> {
    let (label, formats, out) = args.report.resolve("ab")?;
    let cwd = std::env::current_dir().context("current directory")?;
    let repo = PathBuf::from(
        git(&cwd, &["rev-parse", "--show-toplevel"])
            .map_err(|_| usage("`tachygate ab` must run inside a git repository".into()))?,
    );
    let rev = |r: &str| {
        git(
            &repo,
            &["rev-parse", "--verify", &format!("{r}^{{commit}}")],
        )
    };
    let base = rev(&args.base_rev)?;
    let head = rev(&args.head_rev)?;
    if let Some(p) = &args.python {
        crate::python::probe(p, "--python").map_err(|e| usage(e.to_string()))?;
    }

    let interrupt = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&interrupt))
            .context("installing the SIGINT/SIGTERM handler")?;
    }
    let dir = tempfile::Builder::new()
        .prefix("tachygate-ab-")
        .tempdir()
        .context("creating a temporary directory for the worktrees")?;
    let (wt_a, wt_b) = (dir.path().join("a"), dir.path().join("b"));
    let mut trees = Worktrees {
        repo: repo.clone(),
        paths: Vec::new(),
        _dir: dir,
    };
    for (wt, commit) in [(&wt_a, &base), (&wt_b, &head)] {
        git(
            &repo,
            &[
                "worktree",
                "add",
                "--detach",
                &wt.to_string_lossy(),
                commit.as_str(),
            ],
        )?;
        trees.paths.push(wt.clone());
    }
    let scenario_paths: Vec<PathBuf> = if args.paths.is_empty() {
        vec![PathBuf::from(crate::scenario::DEFAULT_DIR)]
    } else {
        args.paths.clone()
    };
    let select = |wt: &Path| -> anyhow::Result<Vec<Scenario>> {
        let paths: Vec<PathBuf> = scenario_paths
            .iter()
            .map(|p| in_worktree(&repo, wt, p))
            .collect();
        select_scenarios(&paths, &args.names, &args.tags, None)
    };
    let side_a = sides::definitions(&select(&wt_a)?);
    let side_b = sides::definitions(&select(&wt_b)?);
    let common: Vec<&String> = side_b.keys().filter(|k| side_a.contains_key(*k)).collect();
    for n in side_a.keys().filter(|k| !side_b.contains_key(*k)) {
        eprintln!("tachygate: {n}: only in {}, skipped", short(&base));
    }
    for n in side_b.keys().filter(|k| !side_a.contains_key(*k)) {
        eprintln!("tachygate: {n}: only in {}, skipped", short(&head));
    }
    if common.is_empty() {
        return Err(usage(
            "no scenario exists in both revisions (check --path / --scenario)".into(),
        ));
    }

    let results = args.results.clone().unwrap_or_else(|| {
        run::default_results_dir(Some(&format!(
            "{label}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )))
    });
    let progress = TerminalProgress::new(super::run::verbosity(g));
    let mut runs_a: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut runs_b: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut interrupted = false;
    'outer: for name in &common {
        let (sa, sb) = (&side_a[*name], &side_b[*name]);
        let repeats = args.repeats.unwrap_or(sb.run.repeats);
        for i in 0..repeats {
            for (side, s, store) in [("a", sa, &mut runs_a), ("b", sb, &mut runs_b)] {
                let out_dir = results.join(side).join(format!("{name}-{i}"));
                let mut opts = RunOptions::new(out_dir.clone());
                opts.label = Some(format!("{label}-{side}"));
                opts.python = args.python.clone();
                opts.repeats = Some(1);
                opts.interrupt = Some(Arc::clone(&interrupt));
                if !g.quiet {
                    eprintln!(
                        "tachygate: {name}: {} ({}) run {}/{repeats}",
                        side.to_uppercase(),
                        short(if side == "a" { &base } else { &head }),
                        i + 1
                    );
                }
                let summary = run::run_scenarios(std::slice::from_ref(s), &opts, &progress)
                    .context("writing the results directory")?;
                store.entry((*name).clone()).or_default().push(out_dir);
                if summary.interrupted || interrupt.load(Ordering::SeqCst) {
                    interrupted = true;
                    break 'outer;
                }
            }
        }
    }
    if interrupted {
        eprintln!("tachygate: interrupted; worktrees removed");
        return Ok(super::run::INTERRUPTED);
    }

    let build = |dirs: &BTreeMap<String, Vec<PathBuf>>,
                 defs: &BTreeMap<String, Scenario>,
                 stacks: bool,
                 rev: &str|
     -> anyhow::Result<Side> {
        let mut side = Side::default();
        for (name, ds) in dirs {
            let loaded: Vec<ScenarioRuns> =
                run::load_results(ds).map_err(|e| usage(e.to_string()))?;
            for r in loaded.iter().filter(|r| &r.scenario == name) {
                let built = sample_set_from_runs(r, defs.get(name), stacks, rev)
                    .map_err(|e| usage(e.to_string()))?;
                if !built.excluded.is_empty() {
                    side.excluded.insert(name.clone(), built.excluded);
                }
                if let Some(set) = built.set {
                    side.sets.insert(name.clone(), set);
                }
            }
        }
        Ok(side)
    };
    let a = build(&runs_a, &side_a, false, &format!("{} (A)", short(&base)))?;
    let b = build(&runs_b, &side_b, true, &format!("{} (B)", short(&head)))?;
    drop(trees);
    let compared = sides::compare_sides(&a, &b, &side_b, &args.gate.options());
    let mut outcomes = compared.outcomes;
    for o in &mut outcomes {
        o.comparison.reproduce = Some(format!(
            "tachygate ab {} {} --scenario {}",
            args.base_rev, args.head_rev, o.comparison.scenario
        ));
    }
    if outcomes.is_empty() {
        return Ok(exit::RUN_FAILED);
    }
    let code = sides::exit_code(&outcomes);
    let report = build_report(&label, outcomes.into_iter().map(|o| o.comparison).collect());
    publish(&report, &out, &formats, g)?;
    Ok(code)
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}
