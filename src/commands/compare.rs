//! `tachygate compare`: compare two recorded sides - baseline files, baseline directories or
//! results directories - without running anything (the release-A-vs-release-B path).

use super::common::Global;
use super::common::{publish, GateArgs, ReportArgs};
use crate::compare::sides;
use crate::exit::{self, usage, Exit};
use crate::report::build_report;
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(
    after_help = format!("Each side is a baseline file (baselines/NAME.json), a directory of baselines \
(baselines/), or a results directory written by `tachygate run`. Several paths per side merge \
(e.g. CI shards: -c results/shard-1 results/shard-2, or -c results/shard-*). Scenarios present on only one side are listed and skipped.\n\n{}",
        exit::help_for(
            &[Exit::Pass, Exit::Regression, Exit::Usage, Exit::Failure],
            &[(Exit::Usage, "usage error or refused comparison")],
        )
    )
)]
pub struct Args {
    /// BASELINE and CANDIDATE (or use --baseline / --candidate, repeatable).
    #[arg(value_name = "SIDE")]
    pub sides: Vec<PathBuf>,
    /// Baseline-side paths (several values, repeatable: `-b a b` or `-b a -b b`).
    #[arg(long, short = 'b', value_name = "PATH", num_args = 1..)]
    pub baseline: Vec<PathBuf>,
    /// Candidate-side paths (several values, repeatable: `-c results/shard-*`).
    #[arg(long, short = 'c', value_name = "PATH", num_args = 1..)]
    pub candidate: Vec<PathBuf>,
    /// Scenario definitions (for [gate] settings and ignore globs): a scenario file or
    /// directory [default: the `scenarios/` directory of the project holding the inputs, else
    /// of the current directory].
    #[arg(long, value_name = "PATH")]
    pub scenarios: Option<PathBuf>,
    /// Only these scenarios (name or glob, repeatable).
    #[arg(long = "scenario", short = 's', value_name = "NAME")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Where a comparison's scenario definitions came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefinitionsSource {
    /// `--scenarios DIR`.
    Given(PathBuf),
    /// `<project root>/scenarios`, the root found above an input path or the current directory.
    Found(PathBuf),
    /// No `scenarios/` directory above any input or the current directory.
    None,
}

/// The scenarios directory for a comparison: `dir` when given, else `<root>/scenarios` for
/// the first project root ([`crate::scenario::find_project_root`]) found above the candidate
/// paths, then the baseline paths, then the current directory. Searching from the inputs
/// first makes the gate settings those of the project the data belongs to, whatever
/// directory the command runs in (it used to be `scenarios/` relative to the current
/// directory, silently falling back to defaults elsewhere).
pub fn definitions_dir(dir: Option<&Path>, inputs: &[PathBuf]) -> DefinitionsSource {
    if let Some(d) = dir {
        return DefinitionsSource::Given(d.to_path_buf());
    }
    let cwd = std::env::current_dir().ok();
    inputs
        .iter()
        .map(PathBuf::as_path)
        .chain(cwd.as_deref())
        .find_map(crate::scenario::find_project_root)
        .map(|root| DefinitionsSource::Found(root.join(crate::scenario::DEFAULT_DIR)))
        .unwrap_or(DefinitionsSource::None)
}

/// Scenario definitions by name from `source`. A definition that fails to load is a usage
/// error: its gate settings would silently be ignored otherwise.
pub fn load_definitions(
    source: &DefinitionsSource,
) -> anyhow::Result<BTreeMap<String, crate::scenario::Scenario>> {
    let dir = match source {
        DefinitionsSource::Given(d) | DefinitionsSource::Found(d) => d,
        DefinitionsSource::None => return Ok(BTreeMap::new()),
    };
    let all =
        crate::scenario::discover(std::slice::from_ref(dir)).context("scenario definitions")?;
    Ok(sides::definitions(&all))
}

/// The report warning for a compared scenario that has no definition: its gate settings
/// are the defaults, which may differ from the project's.
fn missing_definition_warning(source: &DefinitionsSource, scenario: &str) -> String {
    match source {
        DefinitionsSource::Given(d) | DefinitionsSource::Found(d) => format!(
            "no definition of scenario {scenario} in {}: default gate settings used (min_effect, focus, budgets, ignore globs); pass --scenarios DIR if it is defined elsewhere",
            d.display()
        ),
        DefinitionsSource::None => format!(
            "no scenarios/ directory found above the inputs or the current directory: scenario {scenario} is compared with default gate settings (min_effect, focus, budgets, ignore globs); pass --scenarios DIR"
        ),
    }
}

fn name_filter(names: &[String]) -> anyhow::Result<Option<globset::GlobSet>> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut b = globset::GlobSetBuilder::new();
    for n in names {
        b.add(globset::Glob::new(n).with_context(|| format!("--scenario {n:?}"))?);
    }
    Ok(Some(b.build()?))
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    let mut base = args.baseline.clone();
    let mut cand = args.candidate.clone();
    match args.sides.as_slice() {
        [] => {}
        [one] if base.is_empty() => base.push(one.clone()),
        [one] => cand.push(one.clone()),
        [b, c] => {
            base.push(b.clone());
            cand.push(c.clone());
        }
        _ => {
            return Err(usage(
                "give two positional sides (BASELINE CANDIDATE) at most; use --baseline/--candidate for more paths"
                    .into(),
            ))
        }
    }
    if base.is_empty() || cand.is_empty() {
        return Err(usage(
            "need a baseline side and a candidate side: `tachygate compare BASELINE CANDIDATE` or --baseline PATH --candidate PATH".into(),
        ));
    }
    let (label, formats, out) = args.report.resolve("compare")?;
    let inputs: Vec<PathBuf> = cand.iter().chain(&base).cloned().collect();
    let def_source = definitions_dir(args.scenarios.as_deref(), &inputs);
    let defs = load_definitions(&def_source)?;
    let load = |paths: &[PathBuf], which: &str| {
        sides::load_side(paths, &defs, which == "candidate")
            .with_context(|| format!("{which} side"))
    };
    let mut b = load(&base, "baseline")?;
    let mut c = load(&cand, "candidate")?;
    if let Some(filter) = name_filter(&args.names)? {
        for side in [&mut b, &mut c] {
            side.sets.retain(|k, _| filter.is_match(k));
            side.excluded.retain(|k, _| filter.is_match(k));
            side.by_class.retain(|k, _| filter.is_match(k));
        }
    }
    let compared = sides::compare_sides(&b, &c, &defs, &args.gate.options());
    for n in &compared.only_baseline {
        eprintln!("tachygate: {n}: only on the baseline side, skipped");
    }
    for n in &compared.only_candidate {
        eprintln!("tachygate: {n}: only on the candidate side (no baseline), skipped");
    }
    if compared.outcomes.is_empty() {
        return Err(usage(
            "no scenario is present on both sides; check the paths (and --scenario filters)".into(),
        ));
    }
    let code = sides::exit_code(&compared.outcomes);
    let report = build_report(
        &label,
        compared
            .outcomes
            .into_iter()
            .map(|o| {
                let mut c = o.comparison;
                if !defs.contains_key(&c.scenario) {
                    c.warnings
                        .push(missing_definition_warning(&def_source, &c.scenario));
                }
                c
            })
            .collect(),
    );
    publish(&report, &out, &formats, g)?;
    Ok(code)
}
