//! Plumbing the subcommands share: the comparison and report flags, publishing reports,
//! scenario selection, verbosity, and the SIGINT/SIGTERM flag that stops runs cleanly.

use crate::compare::{Adjustment, CompareOptions, ComparisonReport, DEFAULT_CONFIDENCE};
use crate::exit::usage;
use crate::report::{self, table, Format};
use crate::run::Verbosity;
use crate::scenario::{self, Filter, Shard};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Options every subcommand accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Print only errors and the final verdict.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (commands launched, per-run health).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Set from `--json` of `check`, `compare` and `ab` by [`crate::cli::Cli::normalized`]: stdout then
    /// carries the report JSON and nothing else.
    #[arg(skip)]
    pub json: bool,
}

/// Installs the SIGINT/SIGTERM handler that sets `flag`: runs stop at the next check and keep
/// what completed.
pub fn on_interrupt(flag: &Arc<AtomicBool>) -> anyhow::Result<()> {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(flag))
            .context("installing the SIGINT/SIGTERM handler")?;
    }
    Ok(())
}

/// A fresh flag set by SIGINT/SIGTERM ([`on_interrupt`]).
pub fn interrupt_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    on_interrupt(&flag)?;
    Ok(flag)
}

pub fn verbosity(g: &Global) -> Verbosity {
    if g.quiet {
        Verbosity::Quiet
    } else if g.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    }
}

/// Discovery, selection and sharding shared by `run` and `list`.
pub fn select_scenarios(
    paths: &[PathBuf],
    names: &[String],
    tags: &[String],
    shard: Option<Shard>,
) -> anyhow::Result<Vec<scenario::Scenario>> {
    let all = scenario::discover(paths)?;
    let filter = Filter {
        names: names.to_vec(),
        tags: tags.to_vec(),
    };
    let mut chosen = scenario::select(&all, &filter)?;
    if let Some(sh) = shard {
        chosen = sh.apply(chosen);
    }
    Ok(chosen)
}

/// Statistics and gate flags shared by `compare`, `check` and `ab`.
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
    /// Confidence of the intervals; 1 - confidence is the significance level of the gate.
    #[arg(long, value_name = "LEVEL", default_value_t = DEFAULT_CONFIDENCE, value_parser = parse_confidence)]
    pub confidence: f64,
    /// Smallest change (percentage points of the baseline's samples) that fails the gate;
    /// overrides the scenarios' `[gate] min_effect` [default: 1.0].
    #[arg(long, value_name = "PP", value_parser = parse_min_effect)]
    pub min_effect: Option<f64>,
    /// Compare captures made with different sampler settings or Python minor versions (the
    /// differences become warnings in the report).
    #[arg(long)]
    pub allow_mismatch: bool,
    /// Also fail on significant improvements of gated functions (e.g. to force a baseline
    /// update after an optimisation).
    #[arg(long, value_name = "WHAT", value_enum)]
    pub fail_on: Vec<FailOn>,
    /// Multiple-comparison adjustment across a scenario's functions.
    #[arg(long, value_name = "METHOD", value_enum, default_value_t = AdjustArg::Holm)]
    pub adjust: AdjustArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Improved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AdjustArg {
    /// Holm: no false alarm in any function of a scenario with probability >= confidence.
    Holm,
    /// Benjamini-Hochberg: controls the false discovery rate; a little more power when several
    /// functions changed.
    Bh,
}

fn parse_confidence(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.5..=0.999).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0.5..=0.999 (e.g. 0.95)"))
    }
}

fn parse_min_effect(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(v / 100.0)
    } else {
        Err(format!(
            "{v} is not a share change in percentage points (0..=100)"
        ))
    }
}

impl GateArgs {
    pub fn options(&self) -> CompareOptions {
        CompareOptions {
            confidence: self.confidence,
            min_effect: self.min_effect,
            allow_mismatch: self.allow_mismatch,
            fail_on_improved: self.fail_on.contains(&FailOn::Improved),
            adjustment: match self.adjust {
                AdjustArg::Holm => Adjustment::Holm,
                AdjustArg::Bh => Adjustment::BenjaminiHochberg,
            },
            ..CompareOptions::default()
        }
    }
}

/// Report output flags shared by `compare`, `check` and `ab`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Name of this comparison: shown in reports; reports go to reports/<label>/.
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
    /// Reports directory [default: reports/<label>/].
    #[arg(long = "reports", alias = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Report formats, comma-separated: html, md, json, junit.
    // The qualified `Vec` keeps clap from taking it as a repeated flag: one value is the list.
    #[arg(long, value_name = "LIST", default_value = "html,md,json,junit", value_parser = report::parse_list)]
    pub format: ::std::vec::Vec<Format>,
    /// Print the report JSON (the content of report.json) on stdout, and nothing else there;
    /// the table and the report paths are not printed.
    #[arg(long)]
    pub json: bool,
}

impl ReportArgs {
    /// Validated label (becomes a directory name), formats and output directory.
    pub fn resolve(&self, default_label: &str) -> anyhow::Result<(String, Vec<Format>, PathBuf)> {
        let label = self.label.clone().unwrap_or_else(|| default_label.into());
        if label.is_empty() || label.contains('/') || label == "." || label == ".." {
            return Err(usage(format!(
                "--label `{label}` must be a non-empty name without `/` (it becomes a directory name)"
            )));
        }
        let formats = self.format.clone();
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| Path::new("reports").join(&label));
        Ok((label, formats, out))
    }
}

/// Writes the reports, prints the table (stdout) and where the reports went.
pub fn publish(
    report: &ComparisonReport,
    out: &Path,
    formats: &[Format],
    g: &Global,
) -> anyhow::Result<()> {
    let written = report::write_reports(report, out, formats)
        .with_context(|| format!("writing reports to {}", out.display()))?;
    if g.json {
        // stdout is the machine's; the human table moves to stderr.
        write!(super::stdout(), "{}", report::render(report, Format::Json)?)?;
        if !g.quiet {
            eprint!("{}", table::render(report, g.verbose));
            for p in &written {
                eprintln!("report: {}", p.display());
            }
        }
    } else if g.quiet {
        writeln!(
            super::stdout(),
            "{}",
            table::render(report, false).lines().last().unwrap_or("")
        )?;
    } else {
        write!(super::stdout(), "{}", table::render(report, g.verbose))?;
        for p in &written {
            writeln!(super::stdout(), "report: {}", p.display())?;
        }
    }
    Ok(())
}
