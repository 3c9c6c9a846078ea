use crate::cli::Global;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _g: &Global) -> anyhow::Result<i32> {
    anyhow::bail!("`tachygate list` is not implemented yet")
}
