//! Shared helpers for integration tests: the one way to launch the binary, the one way to
//! skip for a missing tool, synthetic pipeline data, and the profiler lock.
//!
//! Tests that launch the profiler must hold [`profiler_lock`]: the sampler busy-polls a core,
//! and two profiled workloads at once on a 2-core machine distort both. The lock is a file
//! lock, so it also serialises across test binaries (cargo runs those one after another, but
//! nextest or a developer running two `cargo test`s would not).
#![allow(dead_code)]

pub mod golden;
pub mod synth;

use std::path::{Path, PathBuf};

/// Variables of the developer's or CI's environment that change what the binary does: a CI
/// step summary it would append to, the demo workloads' slow/scale knobs, a machine class
/// override, and a PYTHONPATH that would reach the workloads. Tests that want one set it
/// explicitly after calling [`tachygate`].
const LEAKING_ENV: [&str; 6] = [
    "GITHUB_STEP_SUMMARY",
    "TACHYGATE_STEP_SUMMARY",
    "TACHYGATE_MACHINE_CLASS",
    "GATEWORK_SLOW",
    "GATEWORK_SCALE",
    "PYTHONPATH",
];

/// The built `tachygate` binary.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("tachygate")
}

/// `tachygate` as an `assert_cmd` command with the leaking environment cleared.
pub fn tachygate() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(bin());
    for k in LEAKING_ENV {
        c.env_remove(k);
    }
    c
}

/// The same as [`tachygate`], as a `std::process::Command` (for spawning and signalling).
pub fn tachygate_std() -> std::process::Command {
    clean_env(std::process::Command::new(bin()))
}

/// `cmd` with the leaking environment cleared (for a copy of the binary or a shell line).
pub fn clean_env(mut cmd: std::process::Command) -> std::process::Command {
    for k in LEAKING_ENV {
        cmd.env_remove(k);
    }
    cmd
}

/// Reports a test that cannot run here: prints `SKIPPED: <reason> (<install>)` and returns, so
/// the caller returns; with `CI` set it panics instead, because CI provisions every tool
/// (`.ci/run`) and a skip there would be a silent pass.
pub fn skip(reason: &str, install: &str) {
    let msg = format!("SKIPPED: {reason} ({install})");
    if std::env::var_os("CI").is_some() {
        panic!("CI is set, so this test may not skip: {msg}");
    }
    eprintln!("{msg}");
}

/// The CPython 3.15 interpreter for tests, or `None` after [`skip`] when there is none.
pub fn python() -> Option<PathBuf> {
    match tachygate::python::discover(None, None) {
        Ok(i) => Some(i.path),
        Err(e) => {
            skip(
                &format!("no CPython 3.15: {e}"),
                "run scripts/provision-python.sh",
            );
            None
        }
    }
}

/// Holds an exclusive lock on a machine-wide file while alive.
pub struct ProfilerLock {
    _lock: nix::fcntl::Flock<std::fs::File>,
}

pub fn profiler_lock() -> ProfilerLock {
    let path = std::env::temp_dir().join("tachygate-tests-profiler.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("open profiler lock file");
    let lock = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .expect("lock profiler lock file");
    ProfilerLock { _lock: lock }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Directory with checked-in test data.
pub fn data_dir() -> PathBuf {
    root().join("tests/data")
}

/// The one baseline file `baseline update` wrote for `scenario` under `dir`: baselines are
/// stored per machine class (`<dir>/<scenario>/<class>.json`), and tests record on one machine.
pub fn baseline_file(dir: &Path, scenario: &str) -> PathBuf {
    let sub = dir.join(scenario);
    let files: Vec<PathBuf> = std::fs::read_dir(&sub)
        .unwrap_or_else(|e| panic!("reading {}: {e}", sub.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one baseline in {}: {files:?}",
        sub.display()
    );
    files.into_iter().next().unwrap()
}

/// A stdout for a child whose reader is already gone: every write to it fails with EPIPE
/// (Rust programs ignore SIGPIPE), as with `tachygate ... | head` once `head` has exited.
pub fn closed_stdout() -> std::process::Stdio {
    let (reader, writer) = nix::unistd::pipe().expect("pipe");
    drop(reader);
    writer.into()
}

/// Copies the tree `from` into `to` (created).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The file names in `dir`, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Asserts that a finished command exited 0; the message shows `what` and its stderr.
pub fn assert_success(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Scenario settings for short profiled runs of the test workloads on a shared machine: the
/// protocol's sampler defaults, five runs with loose health limits, no retries, and
/// CPython's runpy frames ignored. Append after a scenario's `[workload]` table.
pub const SHORT_RUN_SETTINGS: &str = r#"
[sampler]
# The protocol defaults (gil + blocking): cpu mode without blocking fails many reads of
# call-heavy code, unevenly across functions, and moved shares between A/A batches in CI.
rate = "1khz"

[run]
# 5, not the minimum 3: with 3 short runs per side on a loaded machine (load ~8) a doubled
# function once came out inconclusive (Welch with ~2-4 df).
repeats = 5
min_samples = 50
max_error_rate = 50
max_gap_ratio = 1000
retries = 0

[gate]
ignore = ["<frozen runpy>:*"]
"#;
