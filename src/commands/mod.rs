//! Subcommands: each glues pipeline stages together and returns an exit code.
//! Errors returned from here are printed by `main` with their context chain and exit 2
//! (or 3 when they wrap a run failure).

pub mod ab;
pub mod baseline;
pub mod calibrate;
pub mod check;
pub mod common;
pub mod compare;
pub mod completions;
pub mod doctor;
pub mod init;
pub mod inspect;
pub mod list;
pub mod paired;
pub mod report;
pub mod run;

use crate::cli::{Cli, Command};

/// Exit codes, the tool's contract with CI.
pub mod exit {
    pub const OK: i32 = 0;
    pub const REGRESSION: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const RUN_FAILED: i32 = 3;
}

/// An error that should end the process with a specific exit code (default is 2).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExitError {
    pub code: i32,
    pub message: String,
}

pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    let cli = cli.normalized();
    let g = &cli.global;
    match cli.command {
        Command::Inspect(a) => inspect::run(a, g),
        Command::List(a) => list::run(a, g),
        Command::Doctor(a) => doctor::run(a, g),
        Command::Run(a) => run::run(a, g),
        Command::Baseline(a) => baseline::run(a, g),
        Command::Compare(a) => compare::run(a, g),
        Command::Check(a) => check::run(a, g),
        Command::Ab(a) => ab::run(a, g),
        Command::Calibrate(a) => calibrate::run(a, g),
        Command::Report(a) => report::run(a, g),
        Command::Completions(a) => completions::completions(a),
        Command::Man(a) => completions::man(a),
        Command::Init(a) => init::run(a, g),
    }
}
