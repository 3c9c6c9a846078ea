//! `tachygate report`: re-render reports from a saved `report.json` without re-running
//! anything (e.g. after upgrading tachygate, or to get only the HTML from an artifact).

use super::common::Global;
use crate::exit::{usage, Exit};
use crate::report;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A `report.json` written by `check` or `compare`, or a directory containing one.
    // `required` (not `required_unless_present`) so that usage shows <INPUT>: the hidden
    // --sample conflicts with it, and clap does not require an argument that conflicts with
    // one given.
    #[arg(required = true)]
    pub input: Option<PathBuf>,
    /// Formats to write, comma-separated: html, md (or markdown), json, junit.
    // The qualified `Vec` keeps clap from taking it as a repeated flag: one value is the list.
    #[arg(long, short, default_value = "html,md,json,junit", value_name = "LIST", value_parser = report::parse_list)]
    pub format: ::std::vec::Vec<report::Format>,
    /// Reports directory [default: the directory of INPUT].
    #[arg(long = "reports", alias = "out", short_alias = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Render the built-in sample report instead of INPUT (documentation, demos).
    #[arg(long, hide = true, conflicts_with = "input")]
    pub sample: bool,
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    let formats = args.format;
    let (data, source_dir) = match (&args.input, args.sample) {
        (_, true) => (report::fixture::sample_report(), PathBuf::from(".")),
        (Some(input), false) => {
            let (data, path) = report::load_report(input)?;
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            (data, dir)
        }
        (None, false) => return Err(usage("INPUT is required".into())),
    };
    let out = args.out.unwrap_or(source_dir);
    let written = report::write_reports(&data, &out, &formats)
        .with_context(|| format!("writing reports to {}", out.display()))?;
    if !g.quiet {
        for p in &written {
            writeln!(super::stdout(), "{}", p.display())?;
        }
    }
    Ok(Exit::Pass)
}
