//! `tachygate inspect PROFILE.bin`: decode one binary profile and print collapsed stacks
//! (byte-identical to `replay --collapsed`), a top-functions table, or its metadata as JSON;
//! `--speedscope` also exports it for speedscope (`report::speedscope`).
use super::common::Global;
use crate::aggregate::{aggregate, AggregateOptions, PathNormalizer};
use crate::exit::Exit;
use crate::profile::{collapsed, Profile};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    #[value(name = "self")]
    SelfSamples,
    Cumulative,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("output").args(["collapsed", "top", "json"])))]
pub struct Args {
    /// The profile (`profiling.sampling run --binary -o PROFILE.bin ...`).
    pub profile: PathBuf,
    /// Print collapsed stacks, byte-identical to `python -m profiling.sampling replay --collapsed`.
    #[arg(long)]
    pub collapsed: bool,
    /// Print the N hottest functions (the default output, N = 20).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Order of the --top table.
    #[arg(long, value_enum, default_value = "self")]
    pub by: SortBy,
    /// Print the profile's metadata (header, stats trailer, table sizes) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the profile in speedscope's file format to this file (open it at
    /// https://www.speedscope.app); with no other output flag, nothing else is printed.
    #[arg(long, value_name = "OUT.json")]
    pub speedscope: Option<PathBuf>,
    /// Repository root: paths under it are shown relative (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo_root: Option<PathBuf>,
}

pub fn run(args: Args, _g: &Global) -> anyhow::Result<Exit> {
    let profile = Profile::open(&args.profile)?;
    // 1 MiB: behind it std's stdout is line-buffered and issues two write(2) calls per buffer
    // it is handed; at 64 KiB the high-card benchmark's 142 MB of collapsed text took ~4,400
    // calls. Measured (best of 15, three rounds): 0.207-0.216 s against 0.233-0.282 s.
    let mut out = std::io::BufWriter::with_capacity(1 << 20, super::stdout());
    if let Some(path) = &args.speedscope {
        write_speedscope(&profile, &args.profile, path)?;
        if !(args.collapsed || args.json || args.top.is_some()) {
            return Ok(Exit::Pass);
        }
    }
    if args.collapsed {
        // Ordered as tree nodes and rendered straight into the output: the text of all lines
        // (100+ MB for long, varied profiles) is never held at once.
        let lines = collapsed::collapse_stacks(&profile).map_err(|e| e.with_path(&args.profile))?;
        lines.write(&mut out)?;
    } else if args.json {
        serde_json::to_writer_pretty(&mut out, profile.meta())?;
        writeln!(out)?;
    } else {
        let repo_root = match args.repo_root {
            Some(r) => Some(r),
            None => std::env::current_dir().ok(),
        };
        let opts = AggregateOptions {
            paths: PathNormalizer { repo_root },
            ignore: None,
            keep_stacks: false,
        };
        let agg = aggregate(&profile, &opts).with_context(|| args.profile.display().to_string())?;
        write_top(&agg, args.top.unwrap_or(20), args.by, &mut out)?;
    }
    out.flush()?;
    Ok(Exit::Pass)
}

fn write_speedscope(profile: &Profile, input: &Path, path: &Path) -> anyhow::Result<()> {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = crate::report::speedscope::export(profile, &name).map_err(|e| e.with_path(input))?;
    let text = serde_json::to_string(&file)?;
    crate::fsutil::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn write_top(
    agg: &crate::aggregate::RunAggregate,
    n: usize,
    by: SortBy,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut rows: Vec<_> = agg.functions.iter().collect();
    rows.sort_by(|a, b| {
        let (ka, kb) = match by {
            SortBy::SelfSamples => (
                (a.self_samples, a.cumulative_samples),
                (b.self_samples, b.cumulative_samples),
            ),
            SortBy::Cumulative => (
                (a.cumulative_samples, a.self_samples),
                (b.cumulative_samples, b.self_samples),
            ),
        };
        kb.cmp(&ka).then_with(|| a.function.cmp(&b.function))
    });
    let total = agg.total_samples.max(1) as f64;
    writeln!(
        out,
        "{} samples, {} functions",
        agg.total_samples,
        agg.functions.len()
    )?;
    writeln!(
        out,
        "{:>8} {:>7} {:>8} {:>7}  function",
        "self", "self%", "cumul", "cumul%"
    )?;
    for f in rows.into_iter().take(n) {
        writeln!(
            out,
            "{:>8} {:>6.2}% {:>8} {:>6.2}%  {}",
            f.self_samples,
            100.0 * f.self_samples as f64 / total,
            f.cumulative_samples,
            100.0 * f.cumulative_samples as f64 / total,
            f.function
        )?;
    }
    Ok(())
}
