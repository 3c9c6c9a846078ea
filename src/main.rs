use clap::Parser;
use tachygate::cli::Cli;
use tachygate::commands::{self, exit, ExitError};

fn main() {
    let cli = Cli::parse();
    let code = match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: "reading x.bin: bad magic ...".
            eprintln!("tachygate: error: {err:#}");
            err.downcast_ref::<ExitError>()
                .map(|e| e.code)
                .unwrap_or(exit::USAGE)
        }
    };
    std::process::exit(code);
}
