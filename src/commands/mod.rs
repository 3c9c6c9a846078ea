//! Subcommands: each glues pipeline stages together and returns an [`Exit`].
//! Errors returned from here keep their types (`?`, context added with `anyhow::Context`);
//! `main` prints them with their context chain and [`Exit::of_error`] picks the exit code.
//! Commands write their output with `writeln!(commands::stdout(), ...)?`, never `println!`
//! (which panics when the reader is gone): see [`stdout`].
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
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Set once a write to stdout found its reader gone.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// The one place a closed stdout is handled. `tachygate list | head -1` is not an error: the
/// rest of the output is dropped, and the command finishes its work and returns its own exit
/// code. Stopping at the first failed write instead would abandon `baseline update` half way
/// and turn `tachygate check | head` on a regression into exit 0 (a silent pass). Any other
/// write error is returned.
pub fn stdout() -> Stdout {
    Stdout
}

pub struct Stdout;

impl Stdout {
    fn guard<T>(&self, done: T, write: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        if STDOUT_CLOSED.load(Ordering::Relaxed) {
            return Ok(done);
        }
        match write() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                STDOUT_CLOSED.store(true, Ordering::Relaxed);
                Ok(done)
            }
            r => r,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.guard(buf.len(), || io::stdout().write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.guard((), || io::stdout().flush())
    }
}
