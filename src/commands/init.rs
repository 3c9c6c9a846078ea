//! `tachygate init`: sets a Python project up for tachygate. Writes a commented starter
//! scenario for a script or module the user names into `scenarios/`, and a GitHub Actions
//! workflow that runs the gate through the tachygate action. Never overwrites a file unless
//! `--force` is given: a refused file is exit 2, naming it, and nothing is written.

use super::common::Global;
use crate::exit::{usage, Exit};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The GitHub repository that publishes `action.yml`; the workflow pins it to this version.
pub const ACTION_REPO: &str = "tachygate/tachygate";

/// Where `init` writes the workflow, relative to the project directory.
pub const WORKFLOW_REL: &str = ".github/workflows/tachygate.yml";

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["script", "module"])))]
pub struct Args {
    /// The Python script to profile, relative to the project directory (e.g. bench/hot.py).
    #[arg(long, value_name = "PATH")]
    pub script: Option<PathBuf>,
    /// The module to run as `python -m MODULE` instead (e.g. mypkg.bench).
    #[arg(long, value_name = "MODULE")]
    pub module: Option<String>,
    /// Scenario name [default: the script's file name, or the module name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The project's root directory (where scenarios/ and .github/ go).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,
    /// Write only the scenario, not .github/workflows/tachygate.yml.
    #[arg(long)]
    pub no_workflow: bool,
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    let dir = &args.project;
    if !dir.is_dir() {
        return Err(usage(format!(
            "{} is not a directory (--project names the project's root)",
            dir.display()
        )));
    }
    let target = match (&args.script, &args.module) {
        (Some(s), None) => Target::Script(portable_rel(dir, s)?),
        (None, Some(m)) => Target::Module(check_module(m)?),
        _ => return Err(usage("give exactly one of --script or --module".into())),
    };
    let name = match &args.name {
        Some(n) => n.clone(),
        None => target.default_name(),
    };
    let layout = Layout {
        src: dir.join("src").is_dir(),
    };
    let scenario_rel = PathBuf::from("scenarios").join(format!("{name}.toml"));
    let scenario_text = scenario_toml(&target, &layout, &name);
    // The starter must load as written (this also checks --name): validate it at its final
    // path before touching the disk.
    crate::scenario::load_str(&scenario_text, &dir.join(&scenario_rel))
        .context("the starter scenario is invalid")?;
    let mut files = vec![(scenario_rel, scenario_text)];
    if !args.no_workflow {
        files.push((PathBuf::from(WORKFLOW_REL), workflow_yaml()));
    }
    // A workflow identical to ours is not in the way (init run again for a second scenario).
    let (kept, files): (Vec<_>, Vec<_>) = files.into_iter().partition(|(rel, text)| {
        std::fs::read(dir.join(rel)).is_ok_and(|old| old == text.as_bytes())
    });
    if !g.quiet {
        for (rel, _) in &kept {
            writeln!(
                super::stdout(),
                "kept {} (already up to date)",
                shown(dir, rel).display()
            )?;
        }
    }
    if !args.force {
        let existing: Vec<String> = files
            .iter()
            .filter(|(rel, _)| dir.join(rel).exists())
            .map(|(rel, _)| shown(dir, rel).display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(usage(format!(
                "{} already exist{}; nothing was written (pass --force to overwrite{})",
                existing.join(" and "),
                if existing.len() == 1 { "s" } else { "" },
                if existing.iter().any(|e| e.ends_with("tachygate.yml")) {
                    ", or --no-workflow to keep your workflow"
                } else {
                    ""
                }
            )));
        }
    }
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        crate::fsutil::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        if !g.quiet {
            writeln!(super::stdout(), "wrote {}", shown(dir, rel).display())?;
        }
    }
    if !g.quiet {
        let steps = [
            (
                "tachygate doctor".to_string(),
                "can this machine profile? (needs CPython 3.15)",
            ),
            (
                format!("tachygate run -s {name}"),
                "profile the workload, keep the profiles",
            ),
            (
                format!("tachygate baseline update {name}"),
                "record the baseline (baseline mode)",
            ),
            (
                "tachygate check".to_string(),
                "compare against the baselines: the gate",
            ),
        ];
        let width = steps.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
        writeln!(super::stdout(), "\nNext:")?;
        for (cmd, why) in steps {
            writeln!(super::stdout(), "  {cmd:width$}  # {why}")?;
        }
        writeln!(super::stdout(),
            "Commit scenarios/ and {WORKFLOW_REL}: each pull request is then gated against its base commit."
        )?;
    }
    Ok(Exit::Pass)
}

/// `rel` as the user would type it: relative to the current directory when --project is `.`.
fn shown(dir: &Path, rel: &Path) -> PathBuf {
    if dir == Path::new(".") {
        rel.to_path_buf()
    } else {
        dir.join(rel)
    }
}

enum Target {
    /// Path relative to the project root, with `/` separators.
    Script(String),
    Module(String),
}

impl Target {
    fn default_name(&self) -> String {
        let raw = match self {
            Target::Script(p) => Path::new(p)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Target::Module(m) => m.clone(),
        };
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    }
}

struct Layout {
    /// The project keeps its package under `src/`.
    src: bool,
}

/// The script's path relative to the project directory; it must exist there.
fn portable_rel(dir: &Path, script: &Path) -> anyhow::Result<String> {
    let rel = if script.is_absolute() {
        let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        script
            .strip_prefix(&root)
            .map_err(|_| {
                usage(format!(
                    "--script {} is outside the project directory {}",
                    script.display(),
                    root.display()
                ))
            })?
            .to_path_buf()
    } else {
        script.to_path_buf()
    };
    if !dir.join(&rel).is_file() {
        return Err(usage(format!(
            "--script {}: no such file in {} (give the path relative to the project root)",
            rel.display(),
            dir.display()
        )));
    }
    let text = rel.to_string_lossy().replace('\\', "/");
    Ok(text.trim_start_matches("./").to_string())
}

fn check_module(m: &str) -> anyhow::Result<String> {
    let ok = !m.is_empty()
        && m.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    if ok {
        Ok(m.to_string())
    } else {
        Err(usage(format!(
            "--module `{m}` is not a dotted Python module name (e.g. mypkg.bench)"
        )))
    }
}

/// TOML basic string with the characters TOML requires escaped.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn scenario_toml(target: &Target, layout: &Layout, name: &str) -> String {
    let (workload, what, mut focus) = match target {
        Target::Script(p) => (
            format!("script = {}", toml_str(&format!("../{p}"))),
            p.clone(),
            vec![format!("*{p}:*")],
        ),
        Target::Module(m) => {
            let top = m.split('.').next().unwrap_or(m);
            (
                format!("module = {}", toml_str(m)),
                format!("python -m {m}"),
                vec![format!("*{top}/*:*")],
            )
        }
    };
    if layout.src && matches!(target, Target::Script(_)) {
        focus.push("*src/*:*".into());
    }
    let focus = focus
        .iter()
        .map(|f| toml_str(f))
        .collect::<Vec<_>>()
        .join(", ");
    let env = if layout.src {
        "# Import the package from this checkout's src/ rather than an installed copy, so that a\n\
         # paired run measures the revision it checked out (relative to this file; checked to\n\
         # exist before running).\n\
         pythonpath = [\"../src\"]\n\
         # Extra environment variables (strings). PYTHONHASHSEED=0 is added unless set here.\n\
         # env = { MYAPP_SIZE = \"large\" }\n"
    } else {
        "# Extra environment variables (strings). PYTHONHASHSEED=0 is added unless set here.\n\
         # env = { MYAPP_SIZE = \"large\" }\n"
    };
    format!(
        r#"# A tachygate scenario: one Python workload, run several times under CPython 3.15's sampling
# profiler. `tachygate check` fails when a function's share of the samples grows significantly
# compared with the baseline (or, in paired mode, with the pull request's base commit).
# Written by `tachygate init`; every key is described in tachygate's docs/scenarios.md.
# Relative paths are relative to this file's directory (scenarios/).

# Letters, digits, `.`, `_` and `-`; reports and baselines/<name>.json use it.
name = {quoted_name}
description = {description}
# `tachygate run --tag gate` / `check --tag gate` select by tag.
tags = ["gate"]

[workload]
# Make the workload do the same work on every run (fixed inputs, fixed seeds) for 0.5-5 s:
# shorter runs collect too few samples, longer ones only make CI slower.
{workload}
# Arguments passed to it.
args = []
# Run from the repository root, as CI does.
cwd = ".."
{env}# Limit for one profiled run, including the profiler's ~1 s start-up.
timeout = "120s"

[sampler]
# The defaults are the measured protocol: mode = "gil" (Python code, like cpu, leaving out
# waits) with blocking = true (the process is stopped for each sample; without it CPython's
# sampler fails many of its reads of call-heavy code, unevenly across functions) at 1 kHz.
# Use mode = "wall" for code that waits (I/O, sleeps, threads); `mode = "cpu"` only without
# blocking (it records nothing with it).
# mode = "gil"
# rate = "1khz"

[run]
# Runs per side (at least 3). More runs narrow the confidence intervals.
repeats = 5
# A run whose sampler failed more than this percentage of its attempts is re-run, then left
# out. With blocking, a quiet machine fails 1-4% of attempts; more means it was busy.
# max_error_rate = 5

[gate]
# Only these `file:function` globs can fail the gate; everything else (standard library,
# site-packages) is still reported. Empty: every function can.
focus = [{focus}]
# The smallest change that fails the gate, in percentage points of samples. Measure your CI
# machine's noise with `tachygate calibrate {name}` and raise it if needed.
# min_effect = 1.0
"#,
        quoted_name = toml_str(name),
        description = toml_str(&format!("hot path of {what}")),
    )
}

/// The workflow `init` writes: the gate on every pull request, paired mode (base commit vs the
/// pull request, on the same runner). Fixed text, so that a test can compare the example
/// project's copy with it.
pub fn workflow_yaml() -> String {
    let version = env!("CARGO_PKG_VERSION");
    format!(
        r#"# tachygate: fails a pull request that makes a Python hot path measurably slower.
# Written by `tachygate init`. The scenarios in scenarios/ are run on each pull request's base
# commit and on its head, on the same runner, and compared (paired mode: no stored baselines). Reports go to the
# job summary and the `tachygate-reports` artifact. For a sticky PR comment, add the
# tachygate-comment.yml workflow from tachygate's docs/github-action.md: it runs separately
# with a write token, so code from a fork never gets one.
name: tachygate

on:
  pull_request:

permissions:
  contents: read

concurrency:
  group: tachygate-${{{{ github.event.pull_request.number || github.ref }}}}
  cancel-in-progress: true

jobs:
  gate:
    name: performance gate
    runs-on: ubuntu-latest
    timeout-minutes: 45
    steps:
      - uses: actions/checkout@v4
        with:
          # Paired mode checks the base commit out beside the pull request.
          fetch-depth: 0
      - uses: {ACTION_REPO}@v{version}
        with:
          mode: paired
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_scenarios_load_for_both_targets_and_layouts() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("scenarios")).unwrap();
        for target in [
            Target::Script("bench/hot path.py".into()),
            Target::Module("pkg.bench".into()),
        ] {
            for src in [false, true] {
                let text = scenario_toml(&target, &Layout { src }, "x");
                let s = crate::scenario::load_str(&text, &d.path().join("scenarios/x.toml"))
                    .unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(s.name, "x");
                assert!(!s.gate.focus.is_empty());
                assert_eq!(
                    !s.workload.pythonpath.is_empty(),
                    src,
                    "src layout sets pythonpath = [\"../src\"]:\n{text}"
                );
                assert!(!s.workload.env.contains_key("PYTHONPATH"), "{text}");
            }
        }
    }

    #[test]
    fn default_names_are_valid_scenario_names() {
        assert_eq!(Target::Script("bench/hot.py".into()).default_name(), "hot");
        assert_eq!(
            Target::Script("b/my bench!.py".into()).default_name(),
            "my-bench-"
        );
        assert_eq!(
            Target::Module("pkg.bench".into()).default_name(),
            "pkg.bench"
        );
    }

    #[test]
    fn module_names_are_checked() {
        assert!(check_module("pkg.bench").is_ok());
        assert!(check_module("_p.b2").is_ok());
        for bad in ["", "pkg.", "1pkg", "pkg-bench", "pkg..b", "a b"] {
            assert!(check_module(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn workflow_pins_the_action_to_this_version() {
        let w = workflow_yaml();
        assert!(w.contains(&format!(
            "uses: {ACTION_REPO}@v{}",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(w.contains("${{ github.event.pull_request.number || github.ref }}"));
        assert!(!w.contains("pull_request_target"));
    }
}
