//! Command-line definitions (clap derive). Each subcommand's arguments live beside its
//! implementation in `commands/`; this file only lists them.

use crate::commands;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tachygate",
    version,
    about = "Gate CI merges on Python hot-path regressions, measured with CPython 3.15's sampling profiler",
    after_help = "Exit codes: 0 no regression, 1 regression or budget breach, 2 usage/config/input error, 3 a run failed."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Print only errors and the final verdict.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (commands launched, per-run health).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode a binary profile: collapsed stacks, top functions or metadata.
    Inspect(commands::inspect::Args),
    /// List scenarios with their resolved settings.
    List(commands::list::Args),
    /// Check that this machine can profile: interpreter, permissions, zstd, disk.
    Doctor(commands::doctor::Args),
    /// Run scenarios under the profiler and keep their profiles and run records.
    Run(commands::run::Args),
    /// Manage baselines in baselines/.
    Baseline(commands::baseline::Args),
    /// Compare two recorded sides (baselines or results directories).
    Compare(commands::compare::Args),
    /// Run scenarios, compare against baselines/ (or, with --base REV, against REV run now,
    /// interleaved), write reports; the CI gate.
    Check(commands::check::Args),
    /// Compare two git revisions with interleaved runs (A, B, A, B, ...).
    Ab(commands::ab::Args),
    /// Measure this machine's noise floor for a scenario with A/A runs.
    Calibrate(commands::calibrate::Args),
    /// Re-render reports from saved comparison data.
    Report(commands::report::Args),
}
