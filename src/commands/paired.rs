//! Paired comparisons of two revisions on this machine, now: the machinery behind
//! `tachygate check --base REV` (the paired gate) and `tachygate ab`.
//!
//! The base revision is checked out with `git worktree add --detach` into a temporary
//! directory (removed afterwards, also on error and Ctrl-C); the candidate is another worktree
//! (`--head REV`, `ab`'s HEAD) or the working tree itself, uncommitted changes included. Each
//! side loads its scenarios from its own checkout, so every relative path in a scenario
//! (`script`, `cwd`, `python`, `pythonpath`, `[prepare] cwd`) resolves inside that side. Each
//! scenario's repeats run interleaved base, head, base, head, ... so that drift and background
//! load hit both sides alike: the measured load and session effects on these machines shift
//! shares by points, more than many regressions.
//!
//! After the runs, each side's profiles must show that it ran its own files: a project file
//! (neither standard library nor site-packages) profiled from the *other* checkout, or the same
//! absolute file on both sides, means both sides measured one copy of the code (an absolute
//! `PYTHONPATH`, an editable install of one checkout) and the comparison is refused (exit 2).

use super::common::Global;
use super::common::{interrupt_flag, publish, verbosity};
use crate::baseline::sample_set_from_runs;
use crate::compare::sides::{self, Outcome, OutcomeKind, Side};
use crate::compare::{error_comparison, CompareOptions};
use crate::exit::{failure, usage, Exit};
use crate::git::{self, Worktrees};
use crate::report::build_report;
use crate::run::{self, PreparedCache, RunOptions, ScenarioRuns, TerminalProgress};
use crate::scenario::{self, Filter, Scenario, ScenarioError, Shard};
use anyhow::Context;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What to compare and how; filled from `check --base` or `ab` arguments.
pub struct Request {
    pub base_rev: String,
    /// `None`: the working tree (uncommitted changes included).
    pub head_rev: Option<String>,
    /// Scenario files or directories; relative ones against `paths_root`.
    pub paths: Vec<PathBuf>,
    /// `true`: relative `paths` are relative to the repository root (`ab --path`); `false`:
    /// to the current directory (`check`).
    pub paths_from_repo_root: bool,
    pub names: Vec<String>,
    pub tags: Vec<String>,
    pub shard: Option<Shard>,
    pub repeats: Option<u32>,
    pub python: Option<PathBuf>,
    pub results: Option<PathBuf>,
    pub label: String,
}

/// One side of the pair.
struct Checkout {
    /// `base` or `head`: also the results subdirectory.
    name: &'static str,
    /// For messages: a short commit id, or "working tree".
    describe: String,
    /// Canonical root of this side's checkout.
    root: PathBuf,
    scenarios: BTreeMap<String, Scenario>,
}

/// The result of a paired comparison, before reporting.
pub enum Paired {
    Compared(Vec<Outcome>),
    /// No scenario exists in both revisions.
    NothingInCommon,
    Interrupted,
}

/// Runs both sides interleaved and compares them; outcomes carry refusals for scenarios whose
/// sides did not profile their own code.
pub fn compare_revisions(
    req: &Request,
    opts: &CompareOptions,
    g: &Global,
) -> anyhow::Result<Paired> {
    let cwd = std::env::current_dir().context("current directory")?;
    let repo = git::toplevel(&cwd)?;
    let repo = std::fs::canonicalize(&repo).unwrap_or(repo);
    let base_commit = git::resolve_commit(&repo, &req.base_rev)?;
    let head_commit = match &req.head_rev {
        Some(r) => Some(git::resolve_commit(&repo, r)?),
        None => None,
    };
    if let Some(p) = &req.python {
        crate::python::probe(p, "--python")?;
    }
    let rel_paths = scenario_paths(req, &repo, &cwd)?;

    let interrupt = interrupt_flag()?;
    let mut trees = Worktrees::new(&repo)?;
    let base_root = trees.add("base", &base_commit)?;
    let (head_root, head_describe) = match &head_commit {
        Some(c) => (trees.add("head", c)?, git::short(c).to_string()),
        None => (repo.clone(), "working tree".to_string()),
    };
    let filter = Filter {
        names: req.names.clone(),
        tags: req.tags.clone(),
    };
    let load = |name: &'static str, describe: String, root: PathBuf| -> anyhow::Result<Checkout> {
        let paths: Vec<PathBuf> = rel_paths.iter().map(|r| root.join(r)).collect();
        let scenarios = select_side(&paths, &filter, req.shard)
            .with_context(|| format!("{name} ({describe})"))?;
        Ok(Checkout {
            name,
            describe,
            root,
            scenarios: sides::definitions(&scenarios),
        })
    };
    let base = load("base", git::short(&base_commit).to_string(), base_root)?;
    let head = load("head", head_describe, head_root)?;
    let common = common_scenarios(&base, &head);
    if common.is_empty() {
        return Ok(Paired::NothingInCommon);
    }
    for side in [&base, &head] {
        for s in common.iter().map(|n| &side.scenarios[n]) {
            scenario::preflight(s).with_context(|| format!("{} ({})", side.name, side.describe))?;
        }
    }

    let Some(dirs) = run_interleaved(req, [&base, &head], &common, &interrupt, g)? else {
        eprintln!("tachygate: interrupted; worktrees removed");
        return Ok(Paired::Interrupted);
    };
    let runs = [load_runs(&dirs[0])?, load_runs(&dirs[1])?];
    let side_base = build_side(&runs[0], &base, false)?;
    let side_head = build_side(&runs[1], &head, true)?;
    // Checked while the worktrees still exist: file names are compared canonically.
    let refused = refused_scenarios(&common, &runs, [&base, &head], &repo);
    drop(trees);

    let compared = sides::compare_sides(&side_base, &side_head, &head.scenarios, opts);
    let outcomes = apply_refusals(compared.outcomes, &refused, [&side_base, &side_head], opts);
    Ok(Paired::Compared(outcomes))
}

/// Scenario paths relative to the repository root, so each checkout resolves its own copy.
fn scenario_paths(req: &Request, repo: &Path, cwd: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if req.paths.is_empty() {
        let here = std::path::absolute(scenario::default_dir())
            .unwrap_or_else(|_| cwd.join(scenario::DEFAULT_DIR));
        Ok(vec![repo_relative(repo, &here)?])
    } else {
        let from = if req.paths_from_repo_root { repo } else { cwd };
        req.paths
            .iter()
            .map(|p| repo_relative(repo, &from.join(p)))
            .collect()
    }
}

/// Names defined on both sides, sorted; a scenario on one side only is reported
/// on stderr and skipped.
fn common_scenarios(base: &Checkout, head: &Checkout) -> Vec<String> {
    let common: Vec<String> = head
        .scenarios
        .keys()
        .filter(|k| base.scenarios.contains_key(*k))
        .cloned()
        .collect();
    for (side, other) in [(base, head), (head, base)] {
        for n in side
            .scenarios
            .keys()
            .filter(|k| !other.scenarios.contains_key(*k))
        {
            eprintln!(
                "tachygate: {n}: only in {} ({}), skipped",
                side.name, side.describe
            );
        }
    }
    common
}

/// Per scenario, why its two sides cannot be compared: they did not profile their own code.
fn refused_scenarios(
    common: &[String],
    runs: &[BTreeMap<String, Vec<ScenarioRuns>>; 2],
    [base, head]: [&Checkout; 2],
    repo: &Path,
) -> BTreeMap<String, String> {
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    for name in common {
        let files = |k: usize, side: &Checkout| {
            project_files(
                runs[k].get(name).map(Vec::as_slice).unwrap_or(&[]),
                &side.scenarios[name].workload.cwd,
            )
        };
        let (fa, fb) = (files(0, base), files(1, head));
        if let Some(why) = same_files_problem([(base, &fa), (head, &fb)], repo) {
            refused.insert(name.clone(), why);
        }
    }
    refused
}

/// Replaces the comparison of each refused scenario with an error carrying the reason.
fn apply_refusals(
    outcomes: Vec<Outcome>,
    refused: &BTreeMap<String, String>,
    [side_base, side_head]: [&Side; 2],
    opts: &CompareOptions,
) -> Vec<Outcome> {
    outcomes
        .into_iter()
        .map(|o| match refused.get(&o.comparison.scenario) {
            Some(why) => Outcome {
                comparison: error_comparison(
                    &o.comparison.scenario,
                    opts.confidence,
                    side_base.sets.get(&o.comparison.scenario),
                    side_head.sets.get(&o.comparison.scenario),
                    vec![why.clone()],
                    Vec::new(),
                ),
                kind: OutcomeKind::Refused,
            },
            None => o,
        })
        .collect()
}

/// Per side, per scenario: one results directory per repeat.
type RunDirs = BTreeMap<String, Vec<PathBuf>>;

/// Runs each common scenario's repeats as base, head, base, head, ... `None`: interrupted.
fn run_interleaved(
    req: &Request,
    sides: [&Checkout; 2],
    common: &[String],
    interrupt: &Arc<AtomicBool>,
    g: &Global,
) -> anyhow::Result<Option<[RunDirs; 2]>> {
    let results = req.results.clone().unwrap_or_else(|| {
        run::default_results_dir(Some(&format!(
            "{}-{}",
            req.label,
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )))
    });
    let progress = TerminalProgress::new(verbosity(g));
    let prepared = PreparedCache::default();
    let interpreters = run::InterpreterCache::default();
    let mut dirs: [RunDirs; 2] = Default::default();
    for name in common {
        let repeats = req.repeats.unwrap_or(sides[1].scenarios[name].run.repeats);
        for i in 0..repeats {
            for (k, side) in sides.into_iter().enumerate() {
                let out_dir = results.join(side.name).join(format!("{name}-{i}"));
                let mut ropts = RunOptions::new(out_dir.clone());
                ropts.label = Some(format!("{}-{}", req.label, side.name));
                ropts.python = req.python.clone();
                ropts.repeats = Some(1);
                ropts.interrupt = Some(Arc::clone(interrupt));
                ropts.prepared = prepared.clone();
                ropts.interpreters = interpreters.clone();
                if !g.quiet {
                    eprintln!(
                        "tachygate: {name}: {} ({}) run {}/{repeats}",
                        side.name,
                        side.describe,
                        i + 1
                    );
                }
                let mut s = side.scenarios[name].clone();
                if i > 0 {
                    // Warm-up belongs before a side's first run, not before every one.
                    s.run.warmup_runs = 0;
                }
                let summary = run::run_scenarios(std::slice::from_ref(&s), &ropts, &progress)
                    .context("writing the results directory")?;
                dirs[k].entry(name.clone()).or_default().push(out_dir);
                if summary.interrupted || interrupt.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
        }
    }
    Ok(Some(dirs))
}

/// Loads one side's runs per scenario. Each repeat's directory holds its run as index 0:
/// renumbered so that messages name the repeat.
fn load_runs(dirs: &RunDirs) -> anyhow::Result<BTreeMap<String, Vec<ScenarioRuns>>> {
    let mut out = BTreeMap::new();
    for (name, ds) in dirs {
        let mut runs = Vec::new();
        for (i, d) in ds.iter().enumerate() {
            let loaded = run::load_results(std::slice::from_ref(d))?;
            for mut r in loaded.into_iter().filter(|r| &r.scenario == name) {
                for (rec, _) in &mut r.records {
                    rec.index = i as u32;
                }
                runs.push(r);
            }
        }
        out.insert(name.clone(), runs);
    }
    Ok(out)
}

/// One side's sample sets (all its repeats merged per scenario) and excluded runs.
fn build_side(
    runs: &BTreeMap<String, Vec<ScenarioRuns>>,
    side: &Checkout,
    stacks: bool,
) -> anyhow::Result<Side> {
    let mut out = Side::default();
    let source = format!("{} ({})", side.name, side.describe);
    for (name, runs) in runs {
        for r in runs {
            let built = sample_set_from_runs(r, side.scenarios.get(name), stacks, &source)?;
            if !built.excluded.is_empty() {
                out.excluded
                    .entry(name.clone())
                    .or_default()
                    .extend(built.excluded);
            }
            if let Some(set) = built.set {
                match out.sets.get_mut(name) {
                    Some(prev) => prev.runs.extend(set.runs),
                    None => {
                        out.sets.insert(name.clone(), set);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Exit code, report and table for a paired comparison's outcomes.
pub fn finish(
    mut outcomes: Vec<Outcome>,
    label: &str,
    formats: &[crate::report::Format],
    out: &Path,
    g: &Global,
    reproduce: impl Fn(&str) -> String,
) -> anyhow::Result<Exit> {
    if outcomes.is_empty() {
        return Err(failure("no scenario produced runs on both sides".into()));
    }
    for o in &mut outcomes {
        o.comparison.reproduce = Some(reproduce(&o.comparison.scenario));
    }
    let code = sides::exit_code(&outcomes);
    let report = build_report(label, outcomes.into_iter().map(|o| o.comparison).collect());
    publish(&report, out, formats, g)?;
    Ok(code)
}

/// `p` (absolute) relative to the repository root; scenarios must live in the repository to
/// exist in both revisions.
fn repo_relative(repo: &Path, p: &Path) -> anyhow::Result<PathBuf> {
    let abs = scenario::normalize_path(p);
    let abs = std::fs::canonicalize(&abs).unwrap_or(abs);
    abs.strip_prefix(repo).map(Path::to_path_buf).map_err(|_| {
        usage(format!(
            "scenario path {} is outside the repository {}: a paired comparison loads each revision's scenarios from that revision",
            abs.display(),
            repo.display()
        ))
    })
}

/// Discovery and selection for one side. A revision without the scenario files, or without a
/// selected name, simply has none of them (the scenarios are new in the other one).
fn select_side(
    paths: &[PathBuf],
    filter: &Filter,
    shard: Option<Shard>,
) -> Result<Vec<Scenario>, ScenarioError> {
    let all = match scenario::discover(paths) {
        Ok(a) => a,
        Err(ScenarioError::NotFound { .. } | ScenarioError::NoneFound { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    let chosen = match scenario::select(&all, filter) {
        Ok(c) => c,
        Err(ScenarioError::NoMatch { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(match shard {
        Some(sh) => sh.apply(chosen),
        None => chosen,
    })
}

/// Absolute, canonical paths of the project files (neither standard library nor installed
/// packages nor synthetic frames) that a side's usable runs profiled.
fn project_files(runs: &[ScenarioRuns], cwd: &Path) -> BTreeSet<PathBuf> {
    let plain = crate::aggregate::PathNormalizer::default();
    let mut raw: BTreeSet<String> = BTreeSet::new();
    for r in runs {
        for (rec, profile) in &r.records {
            if !rec.outcome.is_ok() {
                continue;
            }
            let Ok(p) = crate::profile::Profile::open(profile) else {
                continue;
            };
            for (i, f) in p.frames().iter().enumerate() {
                if p.is_profiler_frame(i as u32) {
                    continue;
                }
                let name = p.filename(f);
                if plain.normalize(name).starts_with('<') || name == "~" {
                    continue;
                }
                raw.insert(name.to_string());
            }
        }
    }
    raw.into_iter()
        .map(|n| {
            let p = scenario::normalize_path(&cwd.join(n));
            std::fs::canonicalize(&p).unwrap_or(p)
        })
        .collect()
}

/// Why the two sides did not each profile their own code, if they did not.
fn same_files_problem(sides: [(&Checkout, &BTreeSet<PathBuf>); 2], repo: &Path) -> Option<String> {
    const FIX: &str = "something points both sides at one copy of the code: an absolute PYTHONPATH or `pythonpath` entry, an editable install (a .pth file in site-packages) of one checkout, or an absolute `python` inside a checkout. Make paths relative to the scenario file (`[workload] pythonpath = [\"../src\"]` resolves in each checkout) or install the project per checkout with a `[prepare]` command and a relative `python` (docs/scenarios.md, \"Paired comparisons\")";
    let list = |files: &[&PathBuf]| {
        let mut s = files
            .iter()
            .take(3)
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if files.len() > 3 {
            s.push_str(&format!(" and {} more", files.len() - 3));
        }
        s
    };
    // A file belongs to the most specific root it lies in: a worktree may sit inside the
    // repository's directory.
    let roots = [sides[0].0.root.as_path(), sides[1].0.root.as_path(), repo];
    let owner = |f: &Path| {
        roots
            .iter()
            .filter(|r| f.starts_with(r))
            .max_by_key(|r| r.components().count())
            .copied()
    };
    for (side, files) in &sides {
        let stray: Vec<&PathBuf> = files
            .iter()
            .filter(|f| owner(f).is_some_and(|o| o != side.root))
            .collect();
        if !stray.is_empty() {
            return Some(format!(
                "the {} side ({}) profiled files of another checkout instead of its own ({}): {}; both sides may have measured the same code, so they are not compared. {FIX}",
                side.name,
                side.describe,
                side.root.display(),
                list(&stray)
            ));
        }
    }
    let shared: Vec<&PathBuf> = sides[0].1.intersection(sides[1].1).collect();
    if !shared.is_empty() {
        return Some(format!(
            "both sides profiled the same project files, outside either checkout: {}; they would measure the same code, so they are not compared. {FIX}",
            list(&shared)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(name: &'static str, root: &str) -> Checkout {
        Checkout {
            name,
            describe: name.into(),
            root: PathBuf::from(root),
            scenarios: BTreeMap::new(),
        }
    }

    fn files(list: &[&str]) -> BTreeSet<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn each_side_running_its_own_files_passes() {
        let (b, h) = (side("base", "/tmp/wt/base"), side("head", "/repo"));
        let fb = files(&["/tmp/wt/base/src/pkg/core.py", "/opt/tool/x.py"]);
        let fh = files(&["/repo/src/pkg/core.py", "/opt/tool/y.py"]);
        assert_eq!(
            same_files_problem([(&b, &fb), (&h, &fh)], Path::new("/repo")),
            None
        );
    }

    #[test]
    fn a_side_running_the_other_checkouts_files_is_refused_with_the_fix() {
        let (b, h) = (side("base", "/tmp/wt/base"), side("head", "/repo"));
        let fb = files(&["/repo/src/pkg/core.py", "/tmp/wt/base/bench.py"]);
        let fh = files(&["/repo/src/pkg/core.py", "/repo/bench.py"]);
        let why = same_files_problem([(&b, &fb), (&h, &fh)], Path::new("/repo")).unwrap();
        assert!(
            why.starts_with("the base side (base) profiled files of another checkout"),
            "{why}"
        );
        assert!(why.contains("/repo/src/pkg/core.py"), "{why}");
        assert!(why.contains("pythonpath = [\"../src\"]"), "{why}");
    }

    #[test]
    fn both_worktrees_running_the_main_checkout_or_one_outside_copy_are_refused() {
        let (b, h) = (side("base", "/tmp/wt/base"), side("head", "/tmp/wt/head"));
        let main = files(&["/repo/src/pkg/core.py"]);
        let why = same_files_problem([(&b, &main), (&h, &main)], Path::new("/repo")).unwrap();
        assert!(why.contains("the base side"), "{why}");
        let outside = files(&["/opt/proj/src/pkg/core.py"]);
        let why = same_files_problem([(&b, &outside), (&h, &outside)], Path::new("/repo")).unwrap();
        assert!(
            why.starts_with("both sides profiled the same project files"),
            "{why}"
        );
    }

    #[test]
    fn a_worktree_nested_in_the_repository_still_counts_as_its_own() {
        let (b, h) = (side("base", "/repo/.tmp/base"), side("head", "/repo"));
        let fb = files(&["/repo/.tmp/base/src/pkg/core.py"]);
        let fh = files(&["/repo/src/pkg/core.py"]);
        assert_eq!(
            same_files_problem([(&b, &fb), (&h, &fh)], Path::new("/repo")),
            None
        );
        // ... and the working tree running the nested worktree's copy is caught.
        let why = same_files_problem([(&b, &fb), (&h, &fb)], Path::new("/repo")).unwrap();
        assert!(why.starts_with("the head side"), "{why}");
    }
}
