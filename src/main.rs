use clap::Parser;
use std::process::ExitCode;
use tachygate::cli::Cli;
use tachygate::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: "reading x.bin: bad magic ...".
            eprintln!("tachygate: error: {err:#}");
            commands::exit_of(&err)
        }
    };
    code.into()
}
