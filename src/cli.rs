//! Command-line definitions (clap derive). Each subcommand's arguments live beside its
//! implementation in `commands/`; this file only lists them.
//!
//! One concept has one flag name in every subcommand (docs/cli.md has the table, and
//! `tests/cli_vocabulary.rs` walks this tree to keep it so): `--results DIR`, `--reports DIR`,
//! `--baselines DIR`, scenario paths as positional PATHS plus `--scenarios PATH`. Older
//! spellings (`--out`, `--path`, `--dir`) stay as hidden aliases so scripts keep working.

use crate::commands;
use clap::{Parser, Subcommand};

/// `--version`: the crate version and the git commit it was built from (`build.rs`; "unknown"
/// when built outside a git checkout, e.g. from a crates.io tarball).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TACHYGATE_GIT_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "tachygate",
    version = VERSION,
    about = "Gate CI merges on Python hot-path regressions, measured with CPython 3.15's sampling profiler",
    after_help = crate::exit::help()
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
    /// Set from `--json` of `check`, `compare` and `ab` by [`Cli::normalized`]: stdout then
    /// carries the report JSON and nothing else.
    #[arg(skip)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode a binary profile: collapsed stacks, top functions, metadata or a speedscope file.
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page, or write one page per subcommand into a directory.
    Man(commands::completions::ManArgs),
    /// Set a Python project up: a starter scenario and a GitHub Actions workflow.
    Init(commands::init::Args),
}

impl Cli {
    /// Folds what clap cannot express by itself: `--scenarios PATH` is another way to give the
    /// positional PATHS of `run`, `check` and `list`, and `--json` reserves stdout for JSON.
    pub fn normalized(mut self) -> Self {
        match &mut self.command {
            Command::Run(a) => a.paths.append(&mut a.scenarios),
            Command::List(a) => a.paths.append(&mut a.scenarios),
            Command::Check(a) => {
                a.paths.append(&mut a.scenarios);
                self.global.json |= a.report.json;
            }
            Command::Compare(a) => self.global.json |= a.report.json,
            Command::Ab(a) => self.global.json |= a.report.json,
            _ => {}
        }
        self
    }
}
