//! Subcommands: each glues pipeline stages together and returns an [`Exit`].
//! Errors returned from here keep their types (`?`, context added with `anyhow::Context`);
//! `main` prints them with their context chain and [`Exit::of_error`] picks the exit code.
//! Commands write stdout with `writeln!(...)?`, never `println!`, so that a closed pipe
//! reaches `main` as an error (and exits 0) instead of panicking.
#![warn(clippy::print_stdout)]

pub mod ab;
pub mod baseline;
pub mod calibrate;
pub mod check;
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
use crate::exit::Exit;

pub fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
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
