//! The runner: launches `python3.15 -m profiling.sampling run --binary` for each scenario
//! repeat, in its own process group, with timeouts, retries of unhealthy runs and progress,
//! and writes one [`RunRecord`] per run next to its profile.
//!
//! Results directory layout (one per `tachygate run`):
//! ```text
//! <results>/manifest.json                 ResultsManifest: label, started, scenario names
//! <results>/<scenario>/run-<k>.bin        the binary profile (k = 0-based repeat index)
//! <results>/<scenario>/run-<k>.json       RunRecord
//! <results>/<scenario>/run-<k>.stdout|.stderr
//! ```
//!
//! Nothing half-done is left behind: JSON goes through `write_atomic`, the profiler writes its
//! profile under a temporary name that is renamed only after the run ends, and an interrupted
//! run's files are deleted. A directory therefore only ever holds complete
//! `run-<k>.{bin,json}` pairs (plus records of failed runs, which have no profile).

mod advice;
mod env;
mod health;
mod prepare;
mod process;
mod progress;
mod record;
mod results;

pub use advice::{advice, explain, load_average, RunContext};
pub use env::{
    git_state, machine_class_override, normalise_cpu, slug, Host, MachineClass, MACHINE_CLASS_ENV,
};
pub use health::{error_rate_from_stdout, profile_health, ProfileHealth};
pub use prepare::PreparedCache;
pub use progress::{NoProgress, Progress, TerminalProgress, Verbosity};
pub use record::*;
pub use results::{load_results, ResultsManifest, ScenarioRuns, MANIFEST};

use crate::python::{Interpreter, PythonError};
use crate::scenario::{SamplerSettings, Scenario, Shard, Target};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The wrapper that runs `profiling.sampling` and reports the workload's exit status.
const LAUNCHER: &str = include_str!("launcher.py");
/// How many trailing stderr lines an `UnexpectedExit` keeps.
const STDERR_TAIL_LINES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}: not a valid profile: {message}", path.display())]
    BadProfile { path: PathBuf, message: String },
    #[error("{}: not a tachygate results directory (no {MANIFEST}); pass a directory written by `tachygate run`", path.display())]
    NotResults { path: PathBuf },
    #[error("{}: invalid run record: {message}", path.display())]
    BadRecord { path: PathBuf, message: String },
    #[error("scenario `{scenario}` was run with different definitions in {} and {} (fingerprints {first} vs {second}); results of different scenario versions cannot be merged", first_dir.display(), second_dir.display())]
    FingerprintMismatch {
        scenario: String,
        first_dir: PathBuf,
        second_dir: PathBuf,
        first: String,
        second: String,
    },
    #[error(transparent)]
    Python(#[from] PythonError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        cause: source,
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The results directory to create/fill (see [`default_results_dir`]).
    pub out_dir: PathBuf,
    pub label: Option<String>,
    /// `--python`: overrides every scenario's interpreter.
    pub python: Option<PathBuf>,
    /// Overrides every scenario's `repeats`.
    pub repeats: Option<u32>,
    /// Recorded in the manifest; selection is the caller's job ([`Shard::apply`]).
    pub shard: Option<Shard>,
    /// Scenarios run at once. 1 (the default) is the only setting that measures well: the
    /// sampler busy-polls a core.
    pub jobs: usize,
    /// Set by a signal handler: stop the current run, keep completed ones.
    pub interrupt: Option<std::sync::Arc<AtomicBool>>,
    /// Between SIGTERM and SIGKILL when a run is stopped.
    pub kill_grace: Duration,
    /// `[prepare]` commands already run; share it between calls that must not repeat them.
    pub prepared: PreparedCache,
    /// Interpreters already probed, by path; shared the same way (a paired comparison makes
    /// one call per run, and a probe costs a Python start-up).
    pub interpreters: InterpreterCache,
}

#[derive(Debug, Clone, Default)]
pub struct InterpreterCache(std::sync::Arc<Mutex<HashMap<PathBuf, Result<Interpreter, String>>>>);

impl RunOptions {
    pub fn new(out_dir: PathBuf) -> RunOptions {
        RunOptions {
            out_dir,
            label: None,
            python: None,
            repeats: None,
            shard: None,
            jobs: 1,
            interrupt: None,
            kill_grace: Duration::from_secs(2),
            prepared: PreparedCache::default(),
            interpreters: InterpreterCache::default(),
        }
    }

    fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst))
    }
}

/// `.tachygate/results/<label or UTC timestamp>/`.
pub fn default_results_dir(label: Option<&str>) -> PathBuf {
    let leaf = match label {
        Some(l) => l.to_string(),
        None => chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string(),
    };
    // Under the project root, like the other defaults (`scenario::project_root`).
    crate::scenario::in_project(".tachygate/results").join(leaf)
}

/// What a `tachygate run` produced.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub results_dir: PathBuf,
    /// In the order the scenarios were given.
    pub scenarios: Vec<ScenarioRuns>,
    /// A signal stopped the run; `scenarios` holds what completed.
    pub interrupted: bool,
}

impl RunSummary {
    /// Every recorded run is `Ok` (and there was no interrupt).
    pub fn all_ok(&self) -> bool {
        !self.interrupted
            && self
                .scenarios
                .iter()
                .all(|s| s.records.iter().all(|(r, _)| r.outcome.is_ok()))
    }
}

/// Runs every scenario (`repeats` times each, after its warm-up runs) and writes the results
/// directory. Failed runs are recorded, not returned as errors: a failing scenario does not
/// stop the others. Errors are for the results directory itself (cannot write).
pub fn run_scenarios(
    scenarios: &[Scenario],
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<RunSummary, RunError> {
    let out = &opts.out_dir;
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let out = std::fs::canonicalize(out).map_err(io_err(out))?;
    let mut manifest = ResultsManifest {
        version: RUN_RECORD_VERSION,
        label: opts.label.clone(),
        created: chrono::Utc::now(),
        finished: None,
        tachygate_version: env!("CARGO_PKG_VERSION").to_string(),
        scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
        shard: opts.shard,
        interrupted: false,
    };
    let manifest_path = out.join(MANIFEST);
    crate::fsutil::write_json_atomic(&manifest_path, &manifest).map_err(io_err(&manifest_path))?;

    let cx = Shared {
        host: Host::probe(),
        opts,
        out: out.clone(),
        progress,
    };
    let total = scenarios.len();
    let mut results: Vec<Option<Result<ScenarioRuns, RunError>>> = Vec::new();
    results.resize_with(total, || None);
    let jobs = opts.jobs.max(1).min(total.max(1));
    if jobs == 1 {
        for (i, s) in scenarios.iter().enumerate() {
            if opts.interrupted() {
                break;
            }
            results[i] = Some(cx.run_scenario(i, total, s));
        }
    } else {
        let next = Mutex::new(0usize);
        let slots = Mutex::new(&mut results);
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(s) = scenarios.get(i) else { break };
                    if opts.interrupted() {
                        break;
                    }
                    let r = cx.run_scenario(i, total, s);
                    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(slot) = slots.get_mut(i) {
                        *slot = Some(r);
                    }
                });
            }
        });
    }
    let mut done = Vec::new();
    for r in results.into_iter().flatten() {
        done.push(r?);
    }
    let interrupted = opts.interrupted();
    manifest.finished = Some(chrono::Utc::now());
    manifest.interrupted = interrupted;
    crate::fsutil::write_json_atomic(&manifest_path, &manifest).map_err(io_err(&manifest_path))?;
    Ok(RunSummary {
        results_dir: out,
        scenarios: done,
        interrupted,
    })
}

struct Shared<'a> {
    host: Host,
    opts: &'a RunOptions,
    out: PathBuf,
    progress: &'a dyn Progress,
}

/// One attempt's raw result, before health judgement.
struct Attempt {
    outcome: RunOutcome,
    exit_status: Option<i32>,
    wall_time_s: f64,
    health: Option<ProfileHealth>,
    started: chrono::DateTime<chrono::Utc>,
    ended: chrono::DateTime<chrono::Utc>,
    /// The finished profile's temporary path, if one was written.
    profile_tmp: Option<PathBuf>,
}

impl Shared<'_> {
    fn interpreter(&self, s: &Scenario) -> Result<Interpreter, String> {
        let located =
            crate::python::locate(self.opts.python.as_deref(), s.workload.python.as_deref());
        let Some((path, origin)) = located else {
            return Err(PythonError::NotFound.to_string());
        };
        let mut cache = self
            .opts
            .interpreters
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cache
            .entry(path.clone())
            .or_insert_with(|| crate::python::probe(&path, origin).map_err(|e| e.to_string()))
            .clone()
    }

    fn run_scenario(&self, i: usize, total: usize, s: &Scenario) -> Result<ScenarioRuns, RunError> {
        let dir = self.out.join(&s.name);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        clear_previous_runs(&dir);
        let repeats = self.opts.repeats.unwrap_or(s.run.repeats);
        self.progress.scenario_start(i, total, s, repeats);
        let fingerprint = s.fingerprint();
        let mut runs = ScenarioRuns {
            scenario: s.name.clone(),
            records: Vec::new(),
        };
        // Before the interpreter: the command may create it (a venv named by `python`).
        let base_python = crate::python::locate(self.opts.python.as_deref(), None).map(|p| p.0);
        let prepared = self.opts.prepared.ensure(
            s,
            base_python.as_deref(),
            &dir.join("prepare.log"),
            self.opts.interrupt.as_deref(),
            self.opts.kill_grace,
        );
        let python = match prepared
            .map_err(|message| RunOutcome::PrepareFailed { message })
            .and_then(|()| {
                self.interpreter(s)
                    .map_err(|message| RunOutcome::InterpreterError { message })
            }) {
            Ok(p) => p,
            Err(outcome) => {
                // Nothing can run; one record says why.
                let now = chrono::Utc::now();
                let record = RunRecord {
                    version: RUN_RECORD_VERSION,
                    scenario: s.name.clone(),
                    fingerprint,
                    index: 0,
                    attempts: 1,
                    command: Vec::new(),
                    sampler: s.sampler.clone(),
                    environment: Environment {
                        hostname: self.host.hostname.clone(),
                        cpu_model: self.host.cpu_model.clone(),
                        cores: self.host.cores,
                        ..Environment::default()
                    },
                    outcome,
                    profile: None,
                    exit_status: None,
                    wall_time_s: 0.0,
                    samples: 0,
                    error_rate_pct: None,
                    gaps: None,
                    started: now,
                    ended: now,
                    load_avg: load_average(),
                };
                let path = dir.join(run_file(0, "json"));
                crate::fsutil::write_json_atomic(&path, &record).map_err(io_err(&path))?;
                self.progress.run_end(s, &record, repeats, false);
                runs.records.push((record, dir.join(run_file(0, "bin"))));
                self.progress.scenario_end(s, &runs);
                return Ok(runs);
            }
        };
        let environment = self.host.environment(&python, &s.workload.cwd);

        for w in 0..s.run.warmup_runs {
            if self.opts.interrupted() {
                break;
            }
            let stem = format!("warmup-{w}");
            self.progress.run_start(s, w, s.run.warmup_runs, true);
            let (_, a) = self.attempt(s, &python, &dir, &stem)?;
            for ext in ["bin", "stdout", "stderr"] {
                let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}")));
            }
            if let Some(tmp) = a.profile_tmp {
                let _ = std::fs::remove_file(tmp);
            }
        }

        for k in 0..repeats {
            if self.opts.interrupted() {
                break;
            }
            let stem = format!("run-{k}");
            let mut attempts = 0;
            let (command, a, outcome) = loop {
                attempts += 1;
                self.progress.run_start(s, k, repeats, false);
                let (command, a) = self.attempt(s, &python, &dir, &stem)?;
                let outcome = judge(s, &a);
                let retry = matches!(
                    outcome,
                    RunOutcome::HighErrorRate { .. } | RunOutcome::SamplerStalls { .. }
                ) && attempts <= s.run.retries
                    && !self.opts.interrupted();
                if !retry {
                    break (command, a, outcome);
                }
                if let Some(tmp) = &a.profile_tmp {
                    let _ = std::fs::remove_file(tmp);
                }
                let cx = RunContext {
                    sampler: &s.sampler,
                    wall_time_s: a.wall_time_s,
                    load_avg: load_average(),
                    cores: self.host.cores,
                };
                let why = advice(&outcome, &cx)
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default();
                self.progress.message(&format!(
                    "{} run {}/{} attempt {attempts}: {}{why} - retrying",
                    s.name,
                    k + 1,
                    repeats,
                    describe(&outcome)
                ));
            };
            if matches!(outcome, RunOutcome::Interrupted) {
                // Leave no trace of a run that did not finish.
                if let Some(tmp) = &a.profile_tmp {
                    let _ = std::fs::remove_file(tmp);
                }
                for ext in ["stdout", "stderr"] {
                    let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}")));
                }
                break;
            }
            let final_profile = dir.join(format!("{stem}.bin"));
            let profile = match &a.profile_tmp {
                Some(tmp) => {
                    std::fs::rename(tmp, &final_profile).map_err(io_err(&final_profile))?;
                    Some(PathBuf::from(format!("{stem}.bin")))
                }
                None => {
                    let _ = std::fs::remove_file(&final_profile);
                    None
                }
            };
            let record = RunRecord {
                version: RUN_RECORD_VERSION,
                scenario: s.name.clone(),
                fingerprint: fingerprint.clone(),
                index: k,
                attempts,
                command,
                sampler: s.sampler.clone(),
                environment: environment.clone(),
                outcome,
                profile,
                exit_status: a.exit_status,
                wall_time_s: a.wall_time_s,
                samples: a.health.as_ref().map(|h| h.samples).unwrap_or(0),
                error_rate_pct: a.health.as_ref().and_then(|h| h.error_rate_pct),
                gaps: a.health.as_ref().and_then(|h| h.gaps),
                started: a.started,
                ended: a.ended,
                load_avg: load_average(),
            };
            let path = dir.join(format!("{stem}.json"));
            crate::fsutil::write_json_atomic(&path, &record).map_err(io_err(&path))?;
            self.progress.run_end(s, &record, repeats, false);
            runs.records.push((record, final_profile));
        }
        self.progress.scenario_end(s, &runs);
        Ok(runs)
    }

    /// The profiler command for `s`, writing its profile to `profile`.
    fn command(&self, s: &Scenario, python: &Interpreter, profile: &Path) -> Vec<String> {
        let sm = &s.sampler;
        let mut c: Vec<String> = vec![
            python.path.to_string_lossy().into_owned(),
            "-c".into(),
            LAUNCHER.into(),
            "run".into(),
            "--binary".into(),
            "--compression".into(),
            "zstd".into(),
            "-o".into(),
            profile.to_string_lossy().into_owned(),
            "-r".into(),
            sm.rate_hz.to_string(),
            "--mode".into(),
            sm.mode.as_str().into(),
        ];
        if let Some(d) = sm.duration_s {
            c.push("-d".into());
            c.push(format!("{}", d.round() as u64));
        }
        for (on, flag) in [
            (sm.all_threads, "--all-threads"),
            (sm.native, "--native"),
            (!sm.gc, "--no-gc"),
            (sm.opcodes, "--opcodes"),
            (sm.blocking, "--blocking"),
        ] {
            if on {
                c.push(flag.into());
            }
        }
        match &s.workload.target {
            Target::Script(p) => c.push(p.to_string_lossy().into_owned()),
            Target::Module(m) => {
                c.push("-m".into());
                c.push(m.clone());
            }
        }
        c.extend(s.workload.args.iter().cloned());
        c
    }

    fn attempt(
        &self,
        s: &Scenario,
        python: &Interpreter,
        dir: &Path,
        stem: &str,
    ) -> Result<(Vec<String>, Attempt), RunError> {
        let tmp_profile = dir.join(format!(".{stem}.bin.partial"));
        let status_file = dir.join(format!(".{stem}.status"));
        let _ = std::fs::remove_file(&tmp_profile);
        let _ = std::fs::remove_file(&status_file);
        let argv = self.command(s, python, &tmp_profile);
        let stdout_path = dir.join(format!("{stem}.stdout"));
        let stderr_path = dir.join(format!("{stem}.stderr"));
        let stdout = std::fs::File::create(&stdout_path).map_err(io_err(&stdout_path))?;
        let stderr = std::fs::File::create(&stderr_path).map_err(io_err(&stderr_path))?;
        let mut command = std::process::Command::new(&argv[0]);
        command.args(&argv[1..]).current_dir(&s.workload.cwd);
        command.envs(&s.workload.env);
        if let Some(pp) = python_path(s) {
            command.env("PYTHONPATH", pp);
        }
        if !s.workload.env.contains_key("PYTHONHASHSEED") {
            command.env("PYTHONHASHSEED", "0");
        }
        command.env("TACHYGATE_STATUS_FILE", &status_file);
        let started = chrono::Utc::now();
        let launched = process::run(process::Launch {
            command,
            stdout,
            stderr,
            timeout: Duration::from_secs_f64(s.workload.timeout_s),
            grace: self.opts.kill_grace,
            interrupt: self.opts.interrupt.as_deref(),
        });
        let ended = chrono::Utc::now();
        let workload_status = std::fs::read_to_string(&status_file).ok();
        let _ = std::fs::remove_file(&status_file);
        let (how, wall) = match launched {
            Ok(x) => x,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_profile);
                let a = Attempt {
                    outcome: RunOutcome::InterpreterError {
                        message: format!("cannot launch {}: {e}", argv[0]),
                    },
                    exit_status: None,
                    wall_time_s: 0.0,
                    health: None,
                    started,
                    ended,
                    profile_tmp: None,
                };
                return Ok((argv, a));
            }
        };
        let mut a = Attempt {
            outcome: RunOutcome::Ok,
            exit_status: None,
            wall_time_s: wall.as_secs_f64(),
            health: None,
            started,
            ended,
            profile_tmp: tmp_profile.is_file().then(|| tmp_profile.clone()),
        };
        let status = match how {
            process::Ended::Interrupted => {
                a.outcome = RunOutcome::Interrupted;
                return Ok((argv, a));
            }
            process::Ended::TimedOut => {
                if let Some(t) = a.profile_tmp.take() {
                    let _ = std::fs::remove_file(t);
                }
                a.outcome = RunOutcome::Timeout {
                    after_s: s.workload.timeout_s,
                };
                return Ok((argv, a));
            }
            process::Ended::Exited(status) => status,
        };
        let stderr_text = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        // The workload's status (negative = killed by that signal), from the launcher.
        let workload: Option<i32> = workload_status.and_then(|t| t.trim().parse().ok());
        a.exit_status = workload.filter(|c| *c >= 0);
        let profiler_ok = status.success();
        if !profiler_ok || a.profile_tmp.is_none() {
            a.outcome = classify_profiler_failure(&stderr_text, status, workload);
            return Ok((argv, a));
        }
        let expected = match workload {
            // The launcher could not hook this profiler version: the status is unknown, and
            // health checks still catch a workload that died early (too few samples).
            None => true,
            Some(c) if c == s.workload.expect_exit => true,
            // `duration` makes the profiler stop the workload with SIGTERM.
            Some(c) if s.sampler.duration_s.is_some() && c == -(libc_sigterm()) => true,
            _ => false,
        };
        if !expected {
            let (code, signal) = match workload {
                Some(c) if c < 0 => (None, Some(-c)),
                other => (other, None),
            };
            a.outcome = RunOutcome::UnexpectedExit {
                status: code,
                signal,
                stderr_tail: tail(&stderr_text, STDERR_TAIL_LINES),
            };
            // Keep the profile: it may help to see where the workload was.
        }
        if let Some(p) = &a.profile_tmp {
            match profile_health(p) {
                Ok(mut h) => {
                    if h.error_rate_pct.is_none() {
                        let stdout_text = std::fs::read_to_string(&stdout_path).unwrap_or_default();
                        h.error_rate_pct = error_rate_from_stdout(&stdout_text);
                    }
                    a.health = Some(h);
                }
                Err(e) => {
                    if a.outcome.is_ok() {
                        a.outcome = RunOutcome::BadProfile {
                            message: e.to_string(),
                        };
                    }
                }
            }
        }
        Ok((argv, a))
    }
}

/// `PYTHONPATH` for the workload: the scenario's `pythonpath` entries first, then whatever
/// `PYTHONPATH` it would otherwise get (its `env`, else tachygate's own environment). `None`:
/// leave it alone.
fn python_path(s: &Scenario) -> Option<std::ffi::OsString> {
    if s.workload.pythonpath.is_empty() {
        return None;
    }
    let existing = match s.workload.env.get("PYTHONPATH") {
        Some(v) => Some(std::ffi::OsString::from(v)),
        None => std::env::var_os("PYTHONPATH"),
    };
    let entries = s
        .workload
        .pythonpath
        .iter()
        .map(PathBuf::from)
        .chain(existing.iter().flat_map(std::env::split_paths));
    std::env::join_paths(entries).ok()
}

/// Removes the files of an earlier run of this scenario into the same directory (`--out` or
/// `--label` reused), so that stale runs never mix with new ones.
fn clear_previous_runs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = ["run-", "warmup-", ".run-", ".warmup-"]
            .iter()
            .any(|p| name.starts_with(p));
        if ours && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn libc_sigterm() -> i32 {
    nix::sys::signal::Signal::SIGTERM as i32
}

fn run_file(k: u32, ext: &str) -> String {
    format!("run-{k}.{ext}")
}

/// The health verdict for an attempt whose process side went fine.
fn judge(s: &Scenario, a: &Attempt) -> RunOutcome {
    if !a.outcome.is_ok() {
        return a.outcome.clone();
    }
    let Some(h) = &a.health else {
        return RunOutcome::BadProfile {
            message: "no profile was written".into(),
        };
    };
    if h.samples < s.run.min_samples {
        return RunOutcome::TooFewSamples {
            samples: h.samples,
            minimum: s.run.min_samples,
        };
    }
    if let Some(e) = h.error_rate_pct {
        if e > s.run.max_error_rate_pct {
            return RunOutcome::HighErrorRate {
                error_rate_pct: e,
                threshold_pct: s.run.max_error_rate_pct,
            };
        }
    }
    if let Some(g) = &h.gaps {
        let interval_us = h.interval_us as f64;
        if interval_us > 0.0 && g.p99_us > s.run.max_gap_ratio * interval_us {
            return RunOutcome::SamplerStalls {
                p99_gap_us: g.p99_us,
                interval_us,
            };
        }
    }
    RunOutcome::Ok
}

const PERMISSION_FIX: &str = "the profiler needs to read the workload's memory: run `sudo sysctl kernel.yama.ptrace_scope=1` (0 to also allow unrelated processes), run as root, or grant CAP_SYS_PTRACE (`sudo setcap cap_sys_ptrace+ep <python>`); in a container start it with `--cap-add SYS_PTRACE`";

/// Why the profiler itself failed (non-zero exit, or no profile), from its stderr.
fn classify_profiler_failure(
    stderr: &str,
    status: std::process::ExitStatus,
    workload: Option<i32>,
) -> RunOutcome {
    let lower = stderr.to_ascii_lowercase();
    let permission = [
        "ptrace",
        "process_vm_readv",
        "operation not permitted",
        "permissionerror",
        "unable to access process memory",
    ]
    .iter()
    .any(|p| lower.contains(p));
    if permission {
        return RunOutcome::PermissionDenied {
            message: format!("{}: {PERMISSION_FIX}", tail(stderr, 3).replace('\n', " ")),
        };
    }
    if lower.contains("no module named 'profiling") || lower.contains("no module named profiling") {
        return RunOutcome::InterpreterError {
            message: tail(stderr, 3),
        };
    }
    use std::os::unix::process::ExitStatusExt;
    let (code, signal) = match workload {
        Some(c) if c < 0 => (None, Some(-c)),
        Some(c) => (Some(c), None),
        None => (status.code(), status.signal()),
    };
    RunOutcome::UnexpectedExit {
        status: code,
        signal,
        stderr_tail: tail(stderr, STDERR_TAIL_LINES),
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// One line for humans: "ok 1532 samples, error 1.2%" or the failure reason.
pub fn describe(o: &RunOutcome) -> String {
    match o {
        RunOutcome::Ok => "ok".into(),
        RunOutcome::InterpreterError { message } => format!("interpreter error: {message}"),
        RunOutcome::PermissionDenied { message } => format!("permission denied: {message}"),
        RunOutcome::UnexpectedExit {
            status,
            signal,
            stderr_tail,
        } => {
            let how = match (status, signal) {
                (_, Some(sig)) => format!("killed by signal {sig}"),
                (Some(c), None) => format!("exit status {c}"),
                (None, None) => "unknown status".into(),
            };
            let last = stderr_tail.lines().last().unwrap_or("").trim();
            if last.is_empty() {
                format!("unexpected {how}")
            } else {
                format!("unexpected {how}: {last}")
            }
        }
        RunOutcome::Timeout { after_s } => format!("timed out after {after_s} s"),
        RunOutcome::TooFewSamples { samples, minimum } => {
            format!("too few samples: {samples} < min_samples {minimum}")
        }
        RunOutcome::HighErrorRate {
            error_rate_pct,
            threshold_pct,
        } => format!("sampler error rate {error_rate_pct:.1}% > max_error_rate {threshold_pct}%"),
        RunOutcome::SamplerStalls {
            p99_gap_us,
            interval_us,
        } => format!("sampler stalls: p99 gap {p99_gap_us:.0} µs vs interval {interval_us:.0} µs"),
        RunOutcome::BadProfile { message } => format!("bad profile: {message}"),
        RunOutcome::PrepareFailed { message } => message.clone(),
        RunOutcome::Interrupted => "interrupted".into(),
    }
}

/// The result of [`smoke_test`].
#[derive(Debug, Clone, PartialEq)]
pub enum SmokeTest {
    Ok(ProfileHealth),
    PermissionDenied(String),
    Failed(String),
}

/// A call-heavy pure-Python loop (small methods calling small methods, like pyperformance's
/// richards or an OO simulation): the kind of code whose sampling fails without `--blocking`.
const SMOKE_LOOP: &str = "import time\n\nclass Node:\n    def __init__(self, v):\n        self.v = v\n    def value(self):\n        return self.v\n    def step(self, other):\n        return self.value() + other.value()\n\ndef walk(nodes):\n    t = 0\n    for a, b in zip(nodes, nodes[1:]):\n        t += a.step(b)\n    return t\n\nnodes = [Node(i) for i in range(200)]\nt = time.perf_counter()\nwhile time.perf_counter() - t < 0.8:\n    walk(nodes)\n";

/// Profiles a 0.8 s call-heavy loop with `python` (in `dir`, which must exist) using `sampler`'s
/// mode and blocking at 1 kHz: can this machine sample a child process with these settings, and
/// at what error rate? Used by `tachygate doctor`.
pub fn smoke_test(python: &Interpreter, dir: &Path, sampler: &SamplerSettings) -> SmokeTest {
    let tag = format!(
        "{}{}",
        sampler.mode,
        if sampler.blocking { "-blocking" } else { "" }
    );
    let script = dir.join("tachygate_doctor_loop.py");
    let profile = dir.join(format!("doctor-{tag}.bin"));
    if let Err(e) = std::fs::write(&script, SMOKE_LOOP) {
        return SmokeTest::Failed(format!("cannot write {}: {e}", script.display()));
    }
    let (out_path, err_path) = (
        dir.join(format!("doctor-{tag}.stdout")),
        dir.join(format!("doctor-{tag}.stderr")),
    );
    let files =
        std::fs::File::create(&out_path).and_then(|o| Ok((o, std::fs::File::create(&err_path)?)));
    let (stdout, stderr) = match files {
        Ok(f) => f,
        Err(e) => {
            return SmokeTest::Failed(format!("cannot create log files in {}: {e}", dir.display()))
        }
    };
    let mut command = std::process::Command::new(&python.path);
    command
        .args(["-m", "profiling.sampling", "run", "--binary", "-o"])
        .arg(&profile)
        .args(["-r", "1khz", "--mode", sampler.mode.as_str()])
        .args(sampler.blocking.then_some("--blocking"))
        .arg(&script)
        .current_dir(dir);
    let launched = process::run(process::Launch {
        command,
        stdout,
        stderr,
        timeout: Duration::from_secs(30),
        grace: Duration::from_secs(2),
        interrupt: None,
    });
    let stderr_text = std::fs::read_to_string(&err_path).unwrap_or_default();
    match launched {
        Err(e) => SmokeTest::Failed(format!("cannot launch {}: {e}", python.path.display())),
        Ok((process::Ended::Exited(status), _)) if status.success() && profile.is_file() => {
            match profile_health(&profile) {
                Ok(mut h) if h.samples > 0 => {
                    if h.error_rate_pct.is_none() {
                        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
                        h.error_rate_pct = error_rate_from_stdout(&out);
                    }
                    SmokeTest::Ok(h)
                }
                Ok(_) => SmokeTest::Failed("the profile has no samples".into()),
                Err(e) => SmokeTest::Failed(e.to_string()),
            }
        }
        Ok((process::Ended::Exited(status), _)) => {
            match classify_profiler_failure(&stderr_text, status, None) {
                RunOutcome::PermissionDenied { message } => SmokeTest::PermissionDenied(message),
                other => SmokeTest::Failed(describe(&other)),
            }
        }
        Ok((_, _)) => SmokeTest::Failed("the profiled loop did not finish within 30 s".into()),
    }
}

/// How to fix a permission problem (shown by `doctor` and in `PermissionDenied` outcomes).
pub fn permission_fix() -> &'static str {
    PERMISSION_FIX
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        crate::scenario::load_str(
            "[workload]\nscript = \"a.py\"\n[run]\nmin_samples = 100\nmax_error_rate = 5\nmax_gap_ratio = 2\n",
            Path::new("/p/s.toml"),
        )
        .unwrap()
    }

    fn attempt(samples: u64, error: Option<f64>, p99_us: f64) -> Attempt {
        let now = chrono::Utc::now();
        Attempt {
            outcome: RunOutcome::Ok,
            exit_status: Some(0),
            wall_time_s: 1.0,
            health: Some(ProfileHealth {
                samples,
                interval_us: 1000,
                error_rate_pct: error,
                duration_s: Some(1.0),
                gaps: Some(GapStats {
                    median_us: 1000.0,
                    p99_us,
                    max_us: p99_us,
                }),
            }),
            started: now,
            ended: now,
            profile_tmp: None,
        }
    }

    #[test]
    fn judge_applies_each_health_threshold() {
        let s = scenario();
        assert_eq!(judge(&s, &attempt(1000, Some(1.0), 1100.0)), RunOutcome::Ok);
        assert_eq!(
            judge(&s, &attempt(99, Some(1.0), 1100.0)),
            RunOutcome::TooFewSamples {
                samples: 99,
                minimum: 100
            }
        );
        assert_eq!(
            judge(&s, &attempt(1000, Some(5.5), 1100.0)),
            RunOutcome::HighErrorRate {
                error_rate_pct: 5.5,
                threshold_pct: 5.0
            }
        );
        // Exactly at the threshold is still healthy.
        assert_eq!(judge(&s, &attempt(1000, Some(5.0), 2000.0)), RunOutcome::Ok);
        assert_eq!(
            judge(&s, &attempt(1000, None, 2001.0)),
            RunOutcome::SamplerStalls {
                p99_gap_us: 2001.0,
                interval_us: 1000.0
            }
        );
        let mut failed = attempt(1000, Some(1.0), 1000.0);
        failed.outcome = RunOutcome::Timeout { after_s: 3.0 };
        assert_eq!(judge(&s, &failed), RunOutcome::Timeout { after_s: 3.0 });
        let mut no_profile = attempt(1000, None, 1000.0);
        no_profile.health = None;
        assert!(matches!(
            judge(&s, &no_profile),
            RunOutcome::BadProfile { .. }
        ));
    }

    #[test]
    fn permission_problems_are_recognised_with_the_fix() {
        use std::os::unix::process::ExitStatusExt;
        let status = std::process::ExitStatus::from_raw(1 << 8);
        for stderr in [
            "PermissionError: [Errno 1] Operation not permitted",
            "RuntimeError: process_vm_readv failed",
            "🔒 Tachyon was unable to access process memory.",
        ] {
            match classify_profiler_failure(stderr, status, None) {
                RunOutcome::PermissionDenied { message } => {
                    assert!(message.contains("ptrace_scope"), "{message}");
                    assert!(message.contains("SYS_PTRACE"), "{message}");
                }
                other => panic!("{stderr}: {other:?}"),
            }
        }
        match classify_profiler_failure("Traceback\nValueError: boom", status, None) {
            RunOutcome::UnexpectedExit {
                status: Some(1),
                signal: None,
                stderr_tail,
            } => assert!(stderr_tail.ends_with("ValueError: boom")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pythonpath_entries_come_before_the_scenarios_own_pythonpath() {
        let s = crate::scenario::load_str(
            "[workload]\nscript = \"a.py\"\npythonpath = [\"../src\", \"lib\"]\nenv = { PYTHONPATH = \"/x:/y\" }\n",
            Path::new("/p/scen/s.toml"),
        )
        .unwrap();
        assert_eq!(
            python_path(&s).unwrap(),
            std::ffi::OsString::from("/p/src:/p/scen/lib:/x:/y")
        );
        let plain = scenario();
        assert_eq!(python_path(&plain), None);
    }

    #[test]
    fn stderr_tail_keeps_the_last_lines() {
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let t = tail(&text, 20);
        assert!(t.starts_with("line 11\n") && t.ends_with("line 30"), "{t}");
        assert_eq!(tail("", 20), "");
    }

    #[test]
    fn command_maps_every_sampler_setting_to_its_profiler_flag() {
        let s = crate::scenario::load_str(
            "[workload]\nmodule = \"pkg.app\"\nargs = [\"--x\", \"1\"]\n[sampler]\nmode = \"wall\"\nrate = \"10khz\"\nduration = \"3s\"\nall_threads = true\nnative = true\ngc = false\nopcodes = true\nblocking = true\n",
            Path::new("/p/s.toml"),
        )
        .unwrap();
        let opts = RunOptions::new(PathBuf::from("/tmp/unused"));
        let cx = Shared {
            host: Host::default(),
            opts: &opts,
            out: PathBuf::from("/tmp/unused"),
            progress: &NoProgress,
        };
        let py = Interpreter {
            path: PathBuf::from("/py/python3.15"),
            version: "3.15.2".into(),
            major: 3,
            minor: 15,
            micro: 2,
        };
        let argv = cx.command(&s, &py, Path::new("/r/.run-0.bin.partial"));
        assert_eq!(argv[0], "/py/python3.15");
        assert_eq!(argv[1], "-c");
        let rest: Vec<&str> = argv[3..].iter().map(String::as_str).collect();
        assert_eq!(
            rest,
            [
                "run",
                "--binary",
                "--compression",
                "zstd",
                "-o",
                "/r/.run-0.bin.partial",
                "-r",
                "10000",
                "--mode",
                "wall",
                "-d",
                "3",
                "--all-threads",
                "--native",
                "--no-gc",
                "--opcodes",
                "--blocking",
                "-m",
                "pkg.app",
                "--x",
                "1"
            ]
        );
    }
}
