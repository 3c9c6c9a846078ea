use clap::Parser;
use std::process::ExitCode;
use tachygate::cli::Cli;
use tachygate::commands;
use tachygate::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            let code = Exit::of_error(&err);
            // The only error that passes is a reader going away (`| head`): nothing to say.
            if code != Exit::Pass {
                // `{:#}` prints the whole context chain on one line: "reading x.bin: bad magic ...".
                eprintln!("tachygate: error: {err:#}");
            }
            code
        }
    };
    code.into()
}
