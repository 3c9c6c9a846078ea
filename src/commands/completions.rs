//! `tachygate completions SHELL` and `tachygate man [DIR]`: generated from the clap
//! definitions in `cli.rs`, so they can never disagree with `--help`.

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::exit::Exit;
use anyhow::Context;
use clap::CommandFactory;
use std::io::Write;

pub fn completions(args: CompletionsArgs) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    // Rendered in memory: `generate` panics when its writer fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tachygate", &mut script);
    super::stdout().write_all(&script)?;
    Ok(Exit::Pass)
}

pub fn man(args: ManArgs) -> anyhow::Result<Exit> {
    let cmd = Cli::command();
    match args.dir {
        None => {
            clap_mangen::Man::new(cmd)
                .render(&mut super::stdout())
                .context("writing the man page to stdout")?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("writing man pages to {}", dir.display()))?;
            writeln!(super::stdout(), "{}", dir.display())?;
        }
    }
    Ok(Exit::Pass)
}
