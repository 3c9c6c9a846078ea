//! `tachygate completions SHELL` and `tachygate man [DIR]`: generated from the clap
//! definitions in `cli.rs`, so they can never disagree with `--help`.

use crate::cli::Cli;
use crate::exit::Exit;
use anyhow::Context;
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

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
