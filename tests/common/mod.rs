//! Shared helpers for integration tests.
//!
//! Tests that launch the profiler must hold [`profiler_lock`]: the sampler busy-polls a core,
//! and two profiled workloads at once on a 2-core machine distort both. The lock is a file
//! lock, so it also serialises across test binaries (cargo runs those one after another, but
//! nextest or a developer running two `cargo test`s would not).
#![allow(dead_code)]

use std::path::PathBuf;

/// The CPython 3.15 interpreter for tests, or `None` (test skipped) when there is none and
/// we are not in CI. In CI (`CI` set) a missing interpreter fails the test loudly.
pub fn python() -> Option<PathBuf> {
    match tachygate::python::discover(None, None) {
        Ok(i) => Some(i.path),
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but no CPython 3.15 is available: {e}");
            }
            eprintln!("SKIPPED: no CPython 3.15 ({e}); run scripts/provision-python.sh");
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

/// Directory with checked-in test data.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The one baseline file `baseline update` wrote for `scenario` under `dir`: baselines are
/// stored per machine class (`<dir>/<scenario>/<class>.json`), and tests record on one machine.
pub fn baseline_file(dir: &std::path::Path, scenario: &str) -> PathBuf {
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
