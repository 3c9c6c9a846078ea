//! `tachygate ab BASE_REV [HEAD_REV]`: compare two git revisions on this machine, now, with
//! interleaved runs (see [`super::paired`], which `check --base` shares).

use super::common::Global;
use super::common::{GateArgs, ReportArgs};
use super::paired::{self, Paired, Request};
use crate::exit::{self, usage, Exit};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = exit::help_for(&Exit::ALL, &[(
        Exit::Usage,
        "usage error (bad revision, not a git repository, refused comparison)"
    )])
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

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    let (label, formats, out) = args.report.resolve("ab")?;
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        paths.push(PathBuf::from(crate::scenario::DEFAULT_DIR));
    }
    let req = Request {
        base_rev: args.base_rev.clone(),
        head_rev: Some(args.head_rev.clone()),
        paths,
        paths_from_repo_root: true,
        names: args.names.clone(),
        tags: args.tags.clone(),
        shard: None,
        repeats: args.repeats,
        python: args.python.clone(),
        results: args.results.clone(),
        label: label.clone(),
    };
    let outcomes = match paired::compare_revisions(&req, &args.gate.options(), g)? {
        Paired::Interrupted => return Ok(Exit::Interrupted),
        Paired::NothingInCommon => {
            return Err(usage(
                "no scenario exists in both revisions (check --path / --scenario)".into(),
            ))
        }
        Paired::Compared(o) => o,
    };
    paired::finish(outcomes, &label, &formats, &out, g, |s| {
        format!(
            "tachygate ab {} {} --scenario {s}",
            args.base_rev, args.head_rev
        )
    })
}
