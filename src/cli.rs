//! Command-line definitions (clap derive). Each subcommand's arguments live beside its
//! implementation in `commands/`; this file only lists them.
//!
//! One concept has one flag name in every subcommand (docs/cli.md has the table, and
//! `tests/cli_vocabulary.rs` walks this tree to keep it so): `--results DIR`, `--reports DIR`,
//! `--baselines DIR`, scenario paths as positional PATHS plus `--scenarios PATH`. Older
//! spellings (`--out`, `--path`, `--dir`) stay as hidden aliases so scripts keep working.

// One module per line: each names the command's own file, not `commands/mod.rs` (which
// dispatches on `Command` and so imports this file).
use crate::commands::ab;
use crate::commands::baseline;
use crate::commands::calibrate;
use crate::commands::check;
use crate::commands::compare;
use crate::commands::doctor;
use crate::commands::init;
use crate::commands::inspect;
use crate::commands::list;
use crate::commands::report;
use crate::commands::run;
use std::path::PathBuf;
// Defined with the commands that read it, so no command file imports this one back.
pub use crate::commands::common::Global;
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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode a binary profile: collapsed stacks, top functions, metadata or a speedscope file.
    Inspect(inspect::Args),
    /// List scenarios with their resolved settings.
    List(list::Args),
    /// Check that this machine can profile: interpreter, permissions, zstd, disk.
    Doctor(doctor::Args),
    /// Run scenarios under the profiler and keep their profiles and run records.
    Run(run::Args),
    /// Manage baselines in baselines/.
    Baseline(baseline::Args),
    /// Compare two recorded sides (baselines or results directories).
    Compare(compare::Args),
    /// Run scenarios, compare against baselines/ (or, with --base REV, against REV run now,
    /// interleaved), write reports; the CI gate.
    Check(check::Args),
    /// Compare two git revisions with interleaved runs (A, B, A, B, ...).
    Ab(ab::Args),
    /// Measure this machine's noise floor for a scenario with A/A runs.
    Calibrate(calibrate::Args),
    /// Re-render reports from saved comparison data.
    Report(report::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page, or write one page per subcommand into a directory.
    Man(ManArgs),
    /// Set a Python project up: a starter scenario and a GitHub Actions workflow.
    Init(init::Args),
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

// `tachygate completions SHELL` and `tachygate man [DIR]` (run by `commands::completions`).
#[derive(Debug, clap::Args)]
#[command(after_help = "Install, e.g.:\n  \
bash: tachygate completions bash > ~/.local/share/bash-completion/completions/tachygate\n  \
zsh:  tachygate completions zsh > ~/.zfunc/_tachygate  (with `fpath+=~/.zfunc` before compinit)\n  \
fish: tachygate completions fish > ~/.config/fish/completions/tachygate.fish")]
pub struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "E.g. `tachygate man | man -l -`, or `tachygate man ~/.local/share/man/man1`."
)]
pub struct ManArgs {
    /// Write tachygate.1 and one page per subcommand (tachygate-check.1, ...) into DIR
    /// (created if missing) instead of printing tachygate.1 to stdout.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
