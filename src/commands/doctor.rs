//! `tachygate doctor`: can this machine profile? Each check prints OK or FAIL with a fix.
//! Exit 0 when everything is OK, 2 otherwise.

use super::common::Global;
use crate::exit::Exit;
use crate::python::{self, Interpreter};
use crate::run::{self, SmokeTest};
use crate::scenario::{RunSettings, SamplerSettings};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The interpreter to check (default: the one `run` would use).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Where results will be written (for the free-space check).
    #[arg(long, value_name = "DIR", default_value = ".tachygate/results")]
    pub results: PathBuf,
}

/// Below this, a full `tachygate run` of the bundled scenarios may not fit.
const MIN_FREE_BYTES: u64 = 200 * 1024 * 1024;

struct Report {
    failed: bool,
    quiet: bool,
    /// The first failed write to stdout (not a closed pipe: `super::stdout` drops that),
    /// returned once every check has run.
    write_error: Option<std::io::Error>,
}

impl Report {
    fn line(&mut self, text: std::fmt::Arguments) {
        if self.write_error.is_none() {
            self.write_error = writeln!(super::stdout(), "{text}").err();
        }
    }

    fn ok(&mut self, what: &str, detail: impl AsRef<str>) {
        if !self.quiet {
            self.line(format_args!("OK    {what}: {}", detail.as_ref()));
        }
    }

    /// Not a failure (the machine can profile), but something the user should act on.
    fn warn(&mut self, what: &str, detail: impl AsRef<str>, fix: impl AsRef<str>) {
        self.line(format_args!("WARN  {what}: {}", detail.as_ref()));
        self.line(format_args!("      fix: {}", fix.as_ref()));
    }

    fn fail(&mut self, what: &str, detail: impl AsRef<str>, fix: impl AsRef<str>) {
        self.failed = true;
        self.line(format_args!("FAIL  {what}: {}", detail.as_ref()));
        self.line(format_args!("      fix: {}", fix.as_ref()));
    }
}

fn python_can(python: &Interpreter, code: &str) -> Result<(), String> {
    let out = Command::new(&python.path)
        .args(["-I", "-c", code])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(err.lines().last().unwrap_or("failed").to_string())
    }
}

pub fn run(args: Args, g: &Global) -> anyhow::Result<Exit> {
    let mut r = Report {
        failed: false,
        quiet: g.quiet,
        write_error: None,
    };
    let located = python::locate(args.python.as_deref(), None);
    match python::discover(args.python.as_deref(), None) {
        Ok(py) => {
            let origin = located.map(|(_, o)| o).unwrap_or("the search");
            r.ok(
                "interpreter",
                format!(
                    "CPython {} at {} (from {origin})",
                    py.short_version(),
                    py.path.display()
                ),
            );
            match python_can(&py, "import profiling.sampling, _remote_debugging") {
                Ok(()) => r.ok("profiling.sampling", "importable"),
                Err(e) => r.fail(
                    "profiling.sampling",
                    format!("cannot import: {e}"),
                    "use a CPython 3.15+ build with the _remote_debugging module (python.org, uv, pyenv and actions/setup-python builds have it)",
                ),
            }
            match python_can(&py, "try:\n    import compression.zstd\nexcept ImportError:\n    import _zstd\n") {
                Ok(()) => r.ok("zstd", "compression.zstd available (profiles are written with --compression zstd)"),
                Err(e) => r.fail(
                    "zstd",
                    format!("the interpreter has no zstd support: {e}"),
                    "use a CPython 3.15 built with libzstd (python.org, uv and actions/setup-python builds are; from source, install libzstd-dev first)",
                ),
            }
            check_ptrace(&mut r);
            match tempfile::tempdir() {
                Ok(dir) => check_sampling(&mut r, &py, dir.path()),
                Err(e) => r.fail(
                    "sample a child",
                    format!("no temporary directory: {e}"),
                    "set TMPDIR to a writable directory",
                ),
            }
        }
        Err(e) => {
            r.fail("interpreter", e.to_string(), python::HOW_TO_INSTALL);
            // Without an explicit choice, show what the search found and why each was refused.
            if args.python.is_none() && std::env::var_os("TACHYGATE_PYTHON").is_none() {
                for p in python::search(&python::SearchEnv::from_process()) {
                    let why = match &p.result {
                        Ok(i) => format!("CPython {} (usable)", i.short_version()),
                        Err(e) => short_reason(e),
                    };
                    r.line(format_args!(
                        "      found {} ({}): {why}",
                        p.candidate.path.display(),
                        p.candidate.origin
                    ));
                }
            }
            check_ptrace(&mut r);
        }
    }
    check_disk(&mut r, &args.results);
    if let Some(e) = r.write_error {
        return Err(e.into());
    }
    Ok(if r.failed { Exit::Usage } else { Exit::Pass })
}

/// One clause per refused candidate (the full errors repeat the install advice).
fn short_reason(e: &python::PythonError) -> String {
    match e {
        python::PythonError::TooOld { version, .. } => format!("Python {version}, too old"),
        python::PythonError::NoProfiler { stderr, .. } => {
            format!("no profiling.sampling ({stderr})")
        }
        python::PythonError::Launch { cause, .. } => format!("cannot run it ({cause})"),
        python::PythonError::NotFound => "not found".into(),
    }
}

/// Samples a call-heavy loop at the default settings (gil + blocking) and, for comparison,
/// without blocking, and says which to use: the measured protocol (docs/sampling-protocol.md)
/// on this machine.
fn check_sampling(r: &mut Report, py: &Interpreter, dir: &Path) {
    let default = SamplerSettings::default();
    let health = match run::smoke_test(py, dir, &default) {
        SmokeTest::Ok(h) => h,
        SmokeTest::PermissionDenied(m) => return r.fail("sample a child", "permission denied", m),
        SmokeTest::Failed(m) => {
            return r.fail(
                "sample a child",
                format!("with the default settings (mode = \"{}\", blocking = true): {m}", default.mode),
                "run `tachygate run -v` on a scenario and read the run's .stderr file; if only blocking fails, grant ptrace (it stops the process for each sample): ".to_string() + run::permission_fix(),
            )
        }
    };
    let err = health.error_rate_pct;
    let pct = |e: Option<f64>| e.map_or_else(|| "unknown".to_string(), |e| format!("{e:.1}%"));
    r.ok(
        "sample a child",
        format!(
            "profiled a 0.8 s call-heavy loop at the defaults (mode = \"{}\", blocking = true, 1 kHz): {} samples, error rate {}",
            default.mode,
            health.samples,
            pct(err)
        ),
    );
    let unblocked = SamplerSettings {
        blocking: false,
        ..default.clone()
    };
    let without = match run::smoke_test(py, dir, &unblocked) {
        SmokeTest::Ok(h) => h.error_rate_pct,
        _ => None,
    };
    let limit = RunSettings::default().max_error_rate_pct;
    match protocol_advice(err, without, limit) {
        Ok(detail) => r.ok("sampling protocol", detail),
        Err((detail, fix)) => r.warn("sampling protocol", detail, fix),
    }
}

/// What doctor says about the two error rates (with and without blocking): `Ok(detail)` when
/// the defaults are fine here, `Err((detail, fix))` when they are not.
fn protocol_advice(
    with_blocking: Option<f64>,
    without: Option<f64>,
    limit: f64,
) -> Result<String, (String, String)> {
    let pct = |e: Option<f64>| e.map_or_else(|| "unknown".to_string(), |e| format!("{e:.1}%"));
    match with_blocking {
        Some(e) if e > limit => Err((
            format!(
                "the default settings failed {e:.1}% of sampling attempts (max_error_rate default {limit}%; without blocking: {})",
                pct(without)
            ),
            "the machine is probably busy: profile on a quieter machine (no parallel builds or tests); if it stays high, set `max_error_rate` in [run] from `tachygate calibrate`".to_string(),
        )),
        _ => Ok(format!(
            "keep the default [sampler] settings (gil + blocking): error rate {} with blocking vs {} without on call-heavy code (docs/sampling-protocol.md)",
            pct(with_blocking),
            pct(without)
        )),
    }
}

fn check_ptrace(r: &mut Report) {
    let path = "/proc/sys/kernel/yama/ptrace_scope";
    let is_root = effective_uid() == Some(0);
    match std::fs::read_to_string(path) {
        Err(_) => r.ok("ptrace_scope", "no Yama LSM (no extra ptrace restrictions)"),
        Ok(v) => match v.trim() {
            "0" => r.ok("ptrace_scope", "0 (classic ptrace permissions)"),
            "1" => r.ok(
                "ptrace_scope",
                "1 (restricted to descendants: fine, the profiler samples its own child)",
            ),
            "2" if is_root => r.ok("ptrace_scope", "2 (admin-only), running as root"),
            other => r.fail(
                "ptrace_scope",
                format!("{other} (the profiler may not read its child's memory)"),
                run::permission_fix(),
            ),
        },
    }
}

fn check_disk(r: &mut Report, results: &Path) {
    // The results directory may not exist yet: check the filesystem it will be created on.
    let existing = results
        .ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .unwrap_or(Path::new("."));
    match nix::sys::statvfs::statvfs(existing) {
        Ok(st) => {
            let free = st.blocks_available().saturating_mul(st.fragment_size());
            let mb = free / (1024 * 1024);
            if free >= MIN_FREE_BYTES {
                r.ok("disk", format!("{mb} MiB free for {}", results.display()))
            } else {
                r.fail(
                    "disk",
                    format!("only {mb} MiB free for {}", results.display()),
                    "free space or pass --out to `tachygate run` on another filesystem (each run keeps a profile of tens to hundreds of KiB)",
                )
            }
        }
        Err(e) => r.fail(
            "disk",
            format!("cannot check {}: {e}", existing.display()),
            "make sure the results directory's parent exists",
        ),
    }
}

/// The effective uid, from /proc (nix's `geteuid` needs a feature this crate does not enable).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_advice_keeps_the_defaults_unless_even_blocking_fails_often() {
        let ok = protocol_advice(Some(1.2), Some(41.0), 5.0).unwrap();
        assert!(ok.contains("keep the default"), "{ok}");
        assert!(ok.contains("1.2% with blocking vs 41.0% without"), "{ok}");
        let (detail, fix) = protocol_advice(Some(12.0), Some(30.0), 5.0).unwrap_err();
        assert!(detail.contains("12.0%"), "{detail}");
        assert!(fix.contains("quieter machine"), "{fix}");
        assert!(protocol_advice(None, None, 5.0)
            .unwrap()
            .contains("unknown"));
    }
}
