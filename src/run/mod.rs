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
mod launcher;
mod prepare;
mod process;
mod progress;
mod record;
mod results;
mod smoke;

pub use advice::{advice, explain, load_average, RunContext};
pub use env::{machine_class_override, normalise_cpu, slug, Host, MachineClass, MACHINE_CLASS_ENV};
pub use health::{error_rate_from_stdout, profile_health, ProfileHealth};
pub use prepare::PreparedCache;
pub use progress::{NoProgress, Progress, TerminalProgress, Verbosity};
pub use record::*;
pub use results::{load_results, ResultsManifest, ScenarioRuns, MANIFEST};
pub use smoke::{smoke_test, SmokeTest};

use launcher::{Launcher, ProfilerLauncher};

use crate::python::{Interpreter, PythonError};
use crate::scenario::{Scenario, Shard, Target};
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
    run_scenarios_with(scenarios, opts, progress, &ProfilerLauncher)
}

/// [`run_scenarios`] with the process side behind `launcher` (tests pass a fake one).
pub(crate) fn run_scenarios_with(
    scenarios: &[Scenario],
    opts: &RunOptions,
    progress: &dyn Progress,
    launcher: &dyn Launcher,
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
        launcher,
    };
    let total = scenarios.len();
    let results = worker_pool(
        scenarios,
        opts.jobs,
        || opts.interrupted(),
        |i, s| cx.run_scenario(i, total, s),
    );
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

/// Calls `work` on every item with up to `jobs` threads, in item order per thread, until
/// `stop()`; returns the results in item order (`None` for items not started).
fn worker_pool<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    stop: impl Fn() -> bool + Sync,
    work: impl Fn(usize, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let mut results: Vec<Option<R>> = Vec::new();
    results.resize_with(items.len(), || None);
    let jobs = jobs.max(1).min(items.len().max(1));
    if jobs == 1 {
        for (i, item) in items.iter().enumerate() {
            if stop() {
                break;
            }
            results[i] = Some(work(i, item));
        }
        return results;
    }
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
                let Some(item) = items.get(i) else { break };
                if stop() {
                    break;
                }
                let r = work(i, item);
                let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(r);
                }
            });
        }
    });
    results
}

struct Shared<'a> {
    host: Host,
    opts: &'a RunOptions,
    out: PathBuf,
    progress: &'a dyn Progress,
    launcher: &'a dyn Launcher,
}

/// One attempt's raw result, before health judgement.
struct Attempt {
    /// The profiler command line.
    command: Vec<String>,
    outcome: RunOutcome,
    exit_status: Option<i32>,
    wall_time_s: f64,
    health: Option<ProfileHealth>,
    started: chrono::DateTime<chrono::Utc>,
    ended: chrono::DateTime<chrono::Utc>,
    /// The finished profile's temporary path, if one was written.
    profile_tmp: Option<PathBuf>,
}

impl Attempt {
    /// Deletes the temporary profile, if any (a warm-up, a retried or an unfinished attempt).
    fn discard_profile(&mut self) {
        if let Some(tmp) = self.profile_tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// The last attempt of one repeat, judged.
struct Repeat {
    attempt: Attempt,
    attempts: u32,
    outcome: RunOutcome,
}

/// What a scenario's records share.
struct RecordBase<'a> {
    scenario: &'a Scenario,
    fingerprint: &'a str,
    environment: &'a Environment,
}

impl RecordBase<'_> {
    /// The record of repeat `index`: `attempt` is `None` when nothing could be launched.
    fn record(
        &self,
        index: u32,
        attempts: u32,
        outcome: RunOutcome,
        attempt: Option<&Attempt>,
        profile: Option<PathBuf>,
    ) -> RunRecord {
        let now = chrono::Utc::now();
        let health = attempt.and_then(|a| a.health.as_ref());
        RunRecord {
            version: RUN_RECORD_VERSION,
            scenario: self.scenario.name.clone(),
            fingerprint: self.fingerprint.to_string(),
            index,
            attempts,
            command: attempt.map(|a| a.command.clone()).unwrap_or_default(),
            sampler: self.scenario.sampler.clone(),
            environment: self.environment.clone(),
            outcome,
            profile,
            exit_status: attempt.and_then(|a| a.exit_status),
            wall_time_s: attempt.map_or(0.0, |a| a.wall_time_s),
            samples: health.map_or(0, |h| h.samples),
            error_rate_pct: health.and_then(|h| h.error_rate_pct),
            gaps: health.and_then(|h| h.gaps),
            started: attempt.map_or(now, |a| a.started),
            ended: attempt.map_or(now, |a| a.ended),
            load_avg: load_average(),
        }
    }
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

    /// Runs `[prepare]` and finds the interpreter; an outcome saying why nothing can run.
    fn setup(&self, s: &Scenario, dir: &Path) -> Result<Interpreter, RunOutcome> {
        // Before the interpreter: the command may create it (a venv named by `python`).
        let base_python = crate::python::locate(self.opts.python.as_deref(), None).map(|p| p.0);
        let prepared = self.opts.prepared.ensure(
            s,
            base_python.as_deref(),
            &dir.join("prepare.log"),
            self.opts.interrupt.as_deref(),
            self.opts.kill_grace,
        );
        prepared.map_err(|message| RunOutcome::PrepareFailed { message })?;
        self.interpreter(s)
            .map_err(|message| RunOutcome::InterpreterError { message })
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
        let python = match self.setup(s, &dir) {
            Ok(p) => p,
            Err(outcome) => {
                // Nothing can run; one record says why.
                let environment = Environment {
                    hostname: self.host.hostname.clone(),
                    cpu_model: self.host.cpu_model.clone(),
                    cores: self.host.cores,
                    ..Environment::default()
                };
                let base = RecordBase {
                    scenario: s,
                    fingerprint: &fingerprint,
                    environment: &environment,
                };
                let record = base.record(0, 1, outcome, None, None);
                let path = dir.join(run_file(0, "json"));
                crate::fsutil::write_json_atomic(&path, &record).map_err(io_err(&path))?;
                self.progress.run_end(s, &record, repeats, false);
                runs.records.push((record, dir.join(run_file(0, "bin"))));
                self.progress.scenario_end(s, &runs);
                return Ok(runs);
            }
        };
        let environment = self.host.environment(&python, &s.workload.cwd);
        let base = RecordBase {
            scenario: s,
            fingerprint: &fingerprint,
            environment: &environment,
        };
        self.warm_up(s, &python, &dir)?;
        for k in 0..repeats {
            if self.opts.interrupted() {
                break;
            }
            let stem = format!("run-{k}");
            let Repeat {
                attempt,
                attempts,
                outcome,
            } = self.run_repeat(s, &python, &dir, &stem, (k, repeats))?;
            if matches!(outcome, RunOutcome::Interrupted) {
                // Leave no trace of a run that did not finish.
                let mut attempt = attempt;
                attempt.discard_profile();
                for ext in ["stdout", "stderr"] {
                    let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}")));
                }
                break;
            }
            let final_profile = dir.join(format!("{stem}.bin"));
            let profile = match &attempt.profile_tmp {
                Some(tmp) => {
                    std::fs::rename(tmp, &final_profile).map_err(io_err(&final_profile))?;
                    Some(PathBuf::from(format!("{stem}.bin")))
                }
                None => {
                    let _ = std::fs::remove_file(&final_profile);
                    None
                }
            };
            let record = base.record(k, attempts, outcome, Some(&attempt), profile);
            let path = dir.join(format!("{stem}.json"));
            crate::fsutil::write_json_atomic(&path, &record).map_err(io_err(&path))?;
            self.progress.run_end(s, &record, repeats, false);
            runs.records.push((record, final_profile));
        }
        self.progress.scenario_end(s, &runs);
        Ok(runs)
    }

    /// The warm-up runs: launched like measured ones, then deleted.
    fn warm_up(&self, s: &Scenario, python: &Interpreter, dir: &Path) -> Result<(), RunError> {
        for w in 0..s.run.warmup_runs {
            if self.opts.interrupted() {
                break;
            }
            let stem = format!("warmup-{w}");
            self.progress.run_start(s, w, s.run.warmup_runs, true);
            let mut a = self.attempt(s, python, dir, &stem)?;
            for ext in ["bin", "stdout", "stderr"] {
                let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}")));
            }
            a.discard_profile();
        }
        Ok(())
    }

    /// One repeat: attempts until one is healthy, fails in a way a retry cannot fix, or the
    /// scenario's `retries` are used up. `(k, repeats)`: this repeat's index and the count.
    fn run_repeat(
        &self,
        s: &Scenario,
        python: &Interpreter,
        dir: &Path,
        stem: &str,
        (k, repeats): (u32, u32),
    ) -> Result<Repeat, RunError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.progress.run_start(s, k, repeats, false);
            let mut attempt = self.attempt(s, python, dir, stem)?;
            let outcome = judge(s, &attempt);
            let retry = matches!(
                outcome,
                RunOutcome::HighErrorRate { .. } | RunOutcome::SamplerStalls { .. }
            ) && attempts <= s.run.retries
                && !self.opts.interrupted();
            if !retry {
                return Ok(Repeat {
                    attempt,
                    attempts,
                    outcome,
                });
            }
            attempt.discard_profile();
            let cx = RunContext {
                sampler: &s.sampler,
                wall_time_s: attempt.wall_time_s,
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
        }
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

    /// One profiled process: launched, then classified from its exit, the workload's status
    /// and the profile's health.
    fn attempt(
        &self,
        s: &Scenario,
        python: &Interpreter,
        dir: &Path,
        stem: &str,
    ) -> Result<Attempt, RunError> {
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
        let launched = self.launcher.run(process::Launch {
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
        let mut a = Attempt {
            command: argv,
            outcome: RunOutcome::Ok,
            exit_status: None,
            wall_time_s: 0.0,
            health: None,
            started,
            ended,
            profile_tmp: None,
        };
        let (how, wall) = match launched {
            Ok(x) => x,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_profile);
                a.outcome = RunOutcome::InterpreterError {
                    message: format!("cannot launch {}: {e}", a.command[0]),
                };
                return Ok(a);
            }
        };
        a.wall_time_s = wall.as_secs_f64();
        a.profile_tmp = tmp_profile.is_file().then(|| tmp_profile.clone());
        let status = match how {
            process::Ended::Interrupted => {
                a.outcome = RunOutcome::Interrupted;
                return Ok(a);
            }
            process::Ended::TimedOut => {
                a.discard_profile();
                a.outcome = RunOutcome::Timeout {
                    after_s: s.workload.timeout_s,
                };
                return Ok(a);
            }
            process::Ended::Exited(status) => status,
        };
        // The workload's status (negative = killed by that signal), from the launcher.
        let workload: Option<i32> = workload_status.and_then(|t| t.trim().parse().ok());
        a.exit_status = workload.filter(|c| *c >= 0);
        let stderr_text = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        if !status.success() || a.profile_tmp.is_none() {
            a.outcome = classify_profiler_failure(&stderr_text, status, workload);
            return Ok(a);
        }
        if let Some(outcome) = unexpected_exit(s, workload, &stderr_text) {
            // Keep the profile: it may help to see where the workload was.
            a.outcome = outcome;
        }
        self.read_health(&mut a, &stdout_path);
        Ok(a)
    }

    /// Fills in the health of the attempt's profile; an unreadable profile is a `BadProfile`
    /// unless the attempt already failed for another reason.
    fn read_health(&self, a: &mut Attempt, stdout_path: &Path) {
        let Some(p) = &a.profile_tmp else { return };
        match self.launcher.health(p) {
            Ok(mut h) => {
                if h.error_rate_pct.is_none() {
                    let stdout_text = std::fs::read_to_string(stdout_path).unwrap_or_default();
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
}

/// The outcome of a run whose profiler succeeded but whose workload ended with a status other
/// than the scenario's `expect_exit`; `None` when the status is the expected one.
fn unexpected_exit(s: &Scenario, workload: Option<i32>, stderr: &str) -> Option<RunOutcome> {
    let expected = match workload {
        // The launcher could not hook this profiler version: the status is unknown, and
        // health checks still catch a workload that died early (too few samples).
        None => true,
        Some(c) if c == s.workload.expect_exit => true,
        // `duration` makes the profiler stop the workload with SIGTERM.
        Some(c) if s.sampler.duration_s.is_some() && c == -(libc_sigterm()) => true,
        _ => false,
    };
    if expected {
        return None;
    }
    let (code, signal) = match workload {
        Some(c) if c < 0 => (None, Some(-c)),
        other => (other, None),
    };
    Some(RunOutcome::UnexpectedExit {
        status: code,
        signal,
        stderr_tail: tail(stderr, STDERR_TAIL_LINES),
    })
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
            command: Vec::new(),
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
            launcher: &ProfilerLauncher,
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
    /// One scripted attempt of [`FakeLauncher`].
    struct Script {
        ended: FakeEnd,
        /// What the launcher script would write to the status file (the workload's status).
        workload: Option<i32>,
        /// Whether the profiler wrote a profile; its health is `health`.
        health: Option<ProfileHealth>,
        stderr: &'static str,
    }

    enum FakeEnd {
        Exited(i32),
        TimedOut,
        /// The signal handler fired while the process ran.
        Interrupted,
    }

    fn healthy(error_rate_pct: f64) -> Option<ProfileHealth> {
        Some(ProfileHealth {
            samples: 1000,
            interval_us: 1000,
            error_rate_pct: Some(error_rate_pct),
            duration_s: Some(1.0),
            gaps: None,
        })
    }

    fn ok(error_rate_pct: f64) -> Script {
        Script {
            ended: FakeEnd::Exited(0),
            workload: Some(0),
            health: healthy(error_rate_pct),
            stderr: "",
        }
    }

    /// A process that does what its script says: writes the profile and the workload status
    /// where the real profiler and launcher would, and ends as told.
    struct FakeLauncher {
        scripts: Mutex<std::collections::VecDeque<Script>>,
        health: Mutex<Option<ProfileHealth>>,
        interrupt: std::sync::Arc<AtomicBool>,
        launches: Mutex<u32>,
    }

    impl FakeLauncher {
        fn new(scripts: Vec<Script>) -> FakeLauncher {
            FakeLauncher {
                scripts: Mutex::new(scripts.into()),
                health: Mutex::new(None),
                interrupt: Default::default(),
                launches: Mutex::new(0),
            }
        }
    }

    impl Launcher for FakeLauncher {
        fn run(&self, mut launch: process::Launch) -> std::io::Result<(process::Ended, Duration)> {
            use std::io::Write;
            use std::os::unix::process::ExitStatusExt;
            *self.launches.lock().unwrap() += 1;
            let script = self
                .scripts
                .lock()
                .unwrap()
                .pop_front()
                .expect("an unscripted launch");
            let args: Vec<String> = launch
                .command
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let profile = args.iter().position(|a| a == "-o").map(|i| &args[i + 1]);
            let status_file = launch
                .command
                .get_envs()
                .find(|(k, _)| *k == "TACHYGATE_STATUS_FILE")
                .and_then(|(_, v)| v)
                .map(PathBuf::from);
            if script.health.is_some() {
                std::fs::write(profile.expect("an -o argument"), b"profile").unwrap();
            }
            if let (Some(w), Some(f)) = (script.workload, status_file) {
                std::fs::write(f, w.to_string()).unwrap();
            }
            launch.stderr.write_all(script.stderr.as_bytes()).unwrap();
            *self.health.lock().unwrap() = script.health;
            let ended = match script.ended {
                FakeEnd::Exited(code) => {
                    process::Ended::Exited(std::process::ExitStatus::from_raw(code << 8))
                }
                FakeEnd::TimedOut => process::Ended::TimedOut,
                FakeEnd::Interrupted => {
                    self.interrupt.store(true, Ordering::SeqCst);
                    process::Ended::Interrupted
                }
            };
            Ok((ended, Duration::from_millis(1500)))
        }

        fn health(&self, profile: &Path) -> Result<ProfileHealth, RunError> {
            assert!(profile.is_file(), "health of a missing profile");
            Ok(self.health.lock().unwrap().clone().expect("a profile"))
        }
    }

    #[derive(Default)]
    struct Messages(Mutex<Vec<String>>);

    impl Progress for Messages {
        fn message(&self, text: &str) {
            self.0.lock().unwrap().push(text.to_string());
        }
    }

    /// Runs one scenario `repeats` times (more `[run]` settings in `run_toml`) against `launcher` with a fake
    /// interpreter; the results directory stays alive with the returned guard.
    fn run_fake(
        repeats: u32,
        run_toml: &str,
        launcher: &FakeLauncher,
    ) -> (RunSummary, Vec<String>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let toml = format!(
            "[workload]\nscript = \"a.py\"\ntimeout = \"7s\"\n[run]\nmin_samples = 100\nmax_error_rate = 5\nwarmup_runs = 0\n{run_toml}\n"
        );
        let s = crate::scenario::load_str(&toml, &dir.path().join("s.toml")).unwrap();
        let py = PathBuf::from("/fake/python3.15");
        let mut opts = RunOptions::new(dir.path().join("results"));
        opts.python = Some(py.clone());
        opts.repeats = Some(repeats);
        opts.interrupt = Some(launcher.interrupt.clone());
        opts.interpreters.0.lock().unwrap().insert(
            py.clone(),
            Ok(Interpreter {
                path: py,
                version: "3.15.2".into(),
                major: 3,
                minor: 15,
                micro: 2,
            }),
        );
        let messages = Messages::default();
        let summary = run_scenarios_with(&[s], &opts, &messages, launcher).unwrap();
        let messages = messages.0.into_inner().unwrap();
        (summary, messages, dir)
    }

    fn records(summary: &RunSummary) -> Vec<&RunRecord> {
        summary.scenarios[0]
            .records
            .iter()
            .map(|(r, _)| r)
            .collect()
    }

    #[test]
    fn the_worker_pool_keeps_item_order_and_stops_when_told() {
        let items: Vec<u32> = (0..7).collect();
        for jobs in [1, 3] {
            let r = worker_pool(&items, jobs, || false, |i, x| (i, x * 10));
            let want: Vec<Option<(usize, u32)>> =
                (0..7).map(|i| Some((i, i as u32 * 10))).collect();
            assert_eq!(r, want, "jobs {jobs}");
        }
        let started = Mutex::new(0);
        let stop = || *started.lock().unwrap() >= 2;
        let r = worker_pool(&items, 1, stop, |_, x| {
            *started.lock().unwrap() += 1;
            *x
        });
        assert_eq!(r, [Some(0), Some(1), None, None, None, None, None]);
    }

    #[test]
    fn an_unhealthy_attempt_is_retried_and_the_healthy_retry_is_kept() {
        let launcher = FakeLauncher::new(vec![ok(9.0), ok(1.0)]);
        let (summary, messages, _dir) = run_fake(1, "retries = 2", &launcher);
        let r = records(&summary);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].outcome, RunOutcome::Ok);
        assert_eq!((r[0].attempts, r[0].error_rate_pct), (2, Some(1.0)));
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("attempt 1") && messages[0].contains("retrying"));
        let (_, profile) = &summary.scenarios[0].records[0];
        assert!(
            profile.is_file(),
            "the kept attempt's profile is renamed into place"
        );
        let leftovers: Vec<_> = std::fs::read_dir(profile.parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert!(summary.all_ok());
    }

    #[test]
    fn the_runner_gives_up_after_the_retries_and_records_why() {
        let launcher = FakeLauncher::new(vec![ok(9.0), ok(8.0)]);
        let (summary, messages, _dir) = run_fake(1, "retries = 1", &launcher);
        let r = records(&summary);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].outcome,
            RunOutcome::HighErrorRate {
                error_rate_pct: 8.0,
                threshold_pct: 5.0
            }
        );
        assert_eq!(r[0].attempts, 2);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(!summary.all_ok());
    }

    #[test]
    fn a_timed_out_run_is_recorded_without_a_profile_and_not_retried() {
        let timed_out = Script {
            ended: FakeEnd::TimedOut,
            workload: None,
            health: healthy(1.0),
            stderr: "",
        };
        let launcher = FakeLauncher::new(vec![timed_out, ok(1.0)]);
        let (summary, _, _dir) = run_fake(2, "retries = 3", &launcher);
        let r = records(&summary);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].outcome, RunOutcome::Timeout { after_s: 7.0 });
        assert_eq!((r[0].attempts, r[0].profile.as_ref()), (1, None));
        assert!(!summary.scenarios[0].records[0].1.exists());
        assert_eq!(r[1].outcome, RunOutcome::Ok);
        assert_eq!(*launcher.launches.lock().unwrap(), 2);
    }

    #[test]
    fn a_workload_exiting_non_zero_is_an_unexpected_exit_with_its_stderr() {
        let failing = Script {
            ended: FakeEnd::Exited(0),
            workload: Some(3),
            health: healthy(1.0),
            stderr: "Traceback (most recent call last):\nValueError: boom\n",
        };
        let launcher = FakeLauncher::new(vec![failing]);
        let (summary, _, _dir) = run_fake(1, "retries = 3", &launcher);
        let r = records(&summary);
        assert_eq!(r.len(), 1);
        match &r[0].outcome {
            RunOutcome::UnexpectedExit {
                status: Some(3),
                signal: None,
                stderr_tail,
            } => assert!(stderr_tail.ends_with("ValueError: boom"), "{stderr_tail}"),
            other => panic!("{other:?}"),
        }
        assert_eq!((r[0].attempts, r[0].exit_status), (1, Some(3)));
        assert!(r[0].profile.is_some(), "the profile is kept for inspection");
    }

    #[test]
    fn an_interrupted_run_leaves_no_trace_and_stops_the_scenario() {
        let interrupted = Script {
            ended: FakeEnd::Interrupted,
            workload: None,
            health: healthy(1.0),
            stderr: "",
        };
        let launcher = FakeLauncher::new(vec![ok(1.0), interrupted, ok(1.0)]);
        let (summary, _, _dir) = run_fake(3, "", &launcher);
        assert!(summary.interrupted);
        assert_eq!(records(&summary).len(), 1);
        assert_eq!(*launcher.launches.lock().unwrap(), 2);
        let dir = summary.results_dir.join(&summary.scenarios[0].scenario);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["run-0.bin", "run-0.json", "run-0.stderr", "run-0.stdout"]
        );
        let manifest: ResultsManifest = serde_json::from_str(
            &std::fs::read_to_string(summary.results_dir.join(MANIFEST)).unwrap(),
        )
        .unwrap();
        assert!(manifest.interrupted);
    }
}
