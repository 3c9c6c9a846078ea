//! `tachygate list`: the scenarios that `run` would run, with their resolved settings, as a
//! table or as JSON (`--json`, one object per scenario including its fingerprint).

use super::common::Global;
use crate::exit::Exit;
use crate::scenario::{Scenario, Shard, Target};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or directories [default: scenarios/]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// A scenario file or directory, like PATHS (repeatable).
    #[arg(long = "scenarios", value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only scenarios with this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only scenarios with this name or glob (repeatable).
    #[arg(long = "scenario", short = 's', value_name = "NAME")]
    pub names: Vec<String>,
    /// Only the scenarios of shard K/N.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

#[derive(serde::Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    scenario: &'a Scenario,
    fingerprint: String,
}

fn target(s: &Scenario) -> String {
    let t = match &s.workload.target {
        Target::Script(p) => crate::scenario::relative_to(p, &s.dir())
            .display()
            .to_string(),
        Target::Module(m) => format!("-m {m}"),
    };
    if s.workload.args.is_empty() {
        t
    } else {
        format!("{t} {}", s.workload.args.join(" "))
    }
}

pub fn run(args: Args, _g: &Global) -> anyhow::Result<Exit> {
    let shard = args.shard;
    let scenarios = super::common::select_scenarios(&args.paths, &args.names, &args.tags, shard)?;
    // The same checks `run` makes before launching: a listed scenario should be runnable.
    for s in &scenarios {
        crate::scenario::preflight(s)?;
    }
    if args.json {
        let listed: Vec<Listed> = scenarios
            .iter()
            .map(|s| Listed {
                scenario: s,
                fingerprint: s.fingerprint(),
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&listed)?;
        text.push('\n');
        return emit(&text);
    }
    let header = [
        "NAME", "TARGET", "MODE", "RATE", "FLAGS", "RUNS", "TIMEOUT", "TAGS", "FILE",
    ];
    let mut rows: Vec<[String; 9]> = Vec::new();
    for s in &scenarios {
        let sm = &s.sampler;
        let mut flags = Vec::new();
        if let Some(d) = sm.duration_s {
            flags.push(format!("duration={d}s"));
        }
        for (on, name) in [
            (sm.all_threads, "all_threads"),
            (sm.native, "native"),
            (!sm.gc, "no-gc"),
            (sm.opcodes, "opcodes"),
            (sm.blocking, "blocking"),
        ] {
            if on {
                flags.push(name.to_string());
            }
        }
        let runs = if s.run.warmup_runs > 0 {
            format!("{}+{}w", s.run.repeats, s.run.warmup_runs)
        } else {
            s.run.repeats.to_string()
        };
        let file = std::env::current_dir()
            .ok()
            .and_then(|cwd| s.source.strip_prefix(cwd).ok().map(|p| p.to_path_buf()))
            .unwrap_or_else(|| s.source.clone());
        rows.push([
            s.name.clone(),
            target(s),
            sm.mode.to_string(),
            format!("{} Hz", sm.rate_hz),
            if flags.is_empty() {
                "-".into()
            } else {
                flags.join(",")
            },
            runs,
            format!("{}s", s.workload.timeout_s),
            if s.tags.is_empty() {
                "-".into()
            } else {
                s.tags.join(",")
            },
            file.display().to_string(),
        ]);
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        text.push_str(padded.join("  ").trim_end());
        text.push('\n');
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    emit(&text)
}

fn emit(text: &str) -> anyhow::Result<Exit> {
    use std::io::Write;
    let mut out = super::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(Exit::Pass)
}
