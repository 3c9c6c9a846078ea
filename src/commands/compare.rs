//! `tachygate compare`: compare two recorded sides - baseline files, baseline directories or
//! results directories - without running anything (the release-A-vs-release-B path). Also
//! home of the comparison and report flags that `check` and `ab` share.

use super::{exit, ExitError};
use crate::cli::Global;
use crate::compare::{
    build_report, sides, table, Adjustment, CompareOptions, ComparisonReport, DEFAULT_CONFIDENCE,
};
use crate::report::{self, Format};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// Report directory [default: reports/<label>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Report formats, comma-separated: html, md, json, junit.
    #[arg(long, value_name = "LIST", default_value = "html,md,json,junit")]
    pub format: String,
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
        let formats = report::parse_list(&self.format).map_err(|e| usage(e.to_string()))?;
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| Path::new("reports").join(&label));
        Ok((label, formats, out))
    }
}

pub fn usage(message: String) -> anyhow::Error {
    ExitError {
        code: exit::USAGE,
        message,
    }
    .into()
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
    if g.quiet {
        println!(
            "{}",
            table::render(report, false).lines().last().unwrap_or("")
        );
    } else {
        print!("{}", table::render(report, g.verbose));
        for p in &written {
            println!("report: {}", p.display());
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Each side is a baseline file (baselines/NAME.json), a directory of baselines \
(baselines/), or a results directory written by `tachygate run`. Several paths per side merge \
(e.g. CI shards: -c shard-1 -c shard-2). Scenarios present on only one side are listed and skipped.\n\n\
Exit codes: 0 no regression, 1 regression or budget breach, 2 usage error or refused comparison, 3 a run failed."
)]
pub struct Args {
    /// BASELINE and CANDIDATE (or use --baseline / --candidate, repeatable).
    #[arg(value_name = "SIDE")]
    pub sides: Vec<PathBuf>,
    /// A baseline-side path (repeatable).
    #[arg(long, short = 'b', value_name = "PATH")]
    pub baseline: Vec<PathBuf>,
    /// A candidate-side path (repeatable).
    #[arg(long, short = 'c', value_name = "PATH")]
    pub candidate: Vec<PathBuf>,
    /// Scenario definitions (for [gate] settings and ignore globs) [default: scenarios/ when it exists].
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// Only these scenarios (name or glob, repeatable).
    #[arg(long = "scenario", short = 's', value_name = "NAME")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Scenario definitions from `dir` (or `scenarios/` when it exists), by name. A definition
/// that fails to load is a usage error: its gate settings would silently be ignored otherwise.
pub fn load_definitions(
    dir: Option<&Path>,
) -> anyhow::Result<BTreeMap<String, crate::scenario::Scenario>> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            let d = PathBuf::from(crate::scenario::DEFAULT_DIR);
            if !d.is_dir() {
                return Ok(BTreeMap::new());
            }
            d
        }
    };
    let all = crate::scenario::discover(&[dir]).map_err(|e| usage(e.to_string()))?;
    Ok(sides::definitions(&all))
}

fn name_filter(names: &[String]) -> anyhow::Result<Option<globset::GlobSet>> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut b = globset::GlobSetBuilder::new();
    for n in names {
        b.add(globset::Glob::new(n).map_err(|e| usage(format!("--scenario {n:?}: {e}")))?);
    }
    Ok(Some(b.build().map_err(|e| usage(e.to_string()))?))
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<i32> {
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
    let defs = load_definitions(args.scenarios.as_deref())?;
    let load = |paths: &[PathBuf], which: &str| {
        sides::load_side(paths, &defs, which == "candidate")
            .map_err(|e| usage(format!("{which} side: {e}")))
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
            .map(|o| o.comparison)
            .collect(),
    );
    publish(&report, &out, &formats, g)?;
    Ok(code)
}
