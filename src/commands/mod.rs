//! Subcommands: each glues pipeline stages together and returns an [`Exit`].
//! Errors returned from here keep their types (`?`, context added with `anyhow::Context`);
//! `main` prints them with their context chain and [`exit_of`] picks the exit code.
//! Commands write their output with `writeln!(commands::stdout(), ...)?`, never `println!`
//! (which panics when the reader is gone): see [`stdout`].
#![warn(clippy::print_stdout)]

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

/// The one mapping from an error to an exit code. The chain is walked outermost first, so
/// context added on the way up (`reading x: ...`) does not hide the typed error below it.
/// (A closed stdout never gets here: `commands::stdout` drops the output instead.)
pub fn exit_of(err: &anyhow::Error) -> Exit {
    err.chain().find_map(classify).unwrap_or(Exit::Usage)
}

/// The code a single error in a chain decides, if it decides one. Stage errors describe bad
/// input, configuration or environment (a scenario file, a baseline, a profile, a revision, an
/// interpreter): exit 2. A failed run is not an error but an outcome the commands return as
/// [`Exit::Failure`]; the errors that mean "could not measure" are [`crate::exit::CannotMeasure`]. Anything
/// untyped (an I/O error with context) stays a usage error, as it has always been.
fn classify(cause: &(dyn std::error::Error + 'static)) -> Option<Exit> {
    if cause.is::<crate::exit::CannotMeasure>() {
        return Some(Exit::Failure);
    }
    let input = cause.is::<crate::exit::UsageError>()
        || cause.is::<crate::scenario::ScenarioError>()
        || cause.is::<crate::baseline::BaselineError>()
        || cause.is::<crate::run::RunError>()
        || cause.is::<crate::profile::ProfileError>()
        || cause.is::<crate::aggregate::AggregateError>()
        || cause.is::<crate::compare::sides::SideError>()
        || cause.is::<crate::compare::CompareError>()
        || cause.is::<crate::report::ReportError>()
        || cause.is::<crate::python::PythonError>()
        || cause.is::<crate::git::GitError>();
    input.then_some(Exit::Usage)
}
