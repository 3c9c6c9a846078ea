//! Stopping runs: a timed-out workload and its profiler are both gone afterwards, and SIGTERM or
//! SIGINT to `tachygate run` keeps completed runs, leaves no partial files and exits 130.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tachygate::run::{load_results, RunOutcome};

/// A unique argument to find our processes in /proc afterwards.
fn marker(tag: &str) -> String {
    format!(
        "tachygate-test-marker-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Pids of live (non-zombie) processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let zombie = std::fs::read_to_string(e.path().join("stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false);
        if !zombie && String::from_utf8_lossy(&cmdline).contains(marker) {
            found.push(pid);
        }
    }
    found
}

fn scenario(dir: &Path, name: &str, marker: &str, workload_extra: &str, rest: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    let text = format!(
        "[workload]\nscript = {:?}\nargs = [{marker:?}]\n{workload_extra}\n{rest}\n",
        common::data_dir()
            .join("workloads/spin.py")
            .display()
            .to_string()
    );
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn timed_out_workload_and_its_profiler_are_both_gone() {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let d = tempfile::tempdir().unwrap();
    let m = marker("timeout");
    // The workload would spin for 30 s and ignores SIGTERM, so only the SIGKILL to the whole
    // process group can end it.
    let s = scenario(
        d.path(),
        "hangs",
        &m,
        "env = { SPIN_SECONDS = \"30\", SPIN_IGNORE_TERM = \"1\" }\ntimeout = \"1.8s\"",
        "[run]\nrepeats = 3\nmin_samples = 1\nmax_error_rate = 100\n",
    );
    let res = d.path().join("res");
    let started = Instant::now();
    let out = common::tachygate_std()
        .args(["run", "--repeats", "3", "--out"])
        .arg(&res)
        .arg(&s)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the timeout did not stop the workload"
    );
    assert_eq!(processes_with(&m), Vec::<u32>::new(), "orphans left behind");
    let loaded = load_results(std::slice::from_ref(&res)).unwrap();
    assert_eq!(loaded[0].records.len(), 3);
    for (r, profile) in &loaded[0].records {
        assert_eq!(r.outcome, RunOutcome::Timeout { after_s: 1.8 });
        assert_eq!(r.profile, None);
        assert!(!profile.exists());
    }
    let names = common::files(&res.join("hangs"));
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with('.') && !n.ends_with(".bin")),
        "{names:?}"
    );
}

/// Starts `tachygate run` on a 3-repeat scenario, waits until run 0 is complete and run 1 has
/// started, sends `signal`, and checks what is left.
fn interrupt_mid_run(signal: nix::sys::signal::Signal) {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let d = tempfile::tempdir().unwrap();
    let m = marker("interrupt");
    let s = scenario(
        d.path(),
        "long",
        &m,
        "env = { SPIN_SECONDS = \"1.0\" }",
        "[run]\nrepeats = 3\nmin_samples = 1\nmax_error_rate = 100\nmax_gap_ratio = 1000\nretries = 0\n",
    );
    let res = d.path().join("res");
    let mut child = common::tachygate_std()
        .args(["run", "--out"])
        .arg(&res)
        .arg(&s)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sdir = res.join("long");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(sdir.join("run-0.json").exists() && sdir.join("run-1.stdout").exists()) {
        assert!(Instant::now() < deadline, "run 0 never completed");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Into run 1's profiled phase.
    std::thread::sleep(Duration::from_millis(600));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("interrupted"), "{stderr}");

    assert_eq!(processes_with(&m), Vec::<u32>::new(), "orphans left behind");
    let names = common::files(&sdir);
    assert_eq!(
        names,
        ["run-0.bin", "run-0.json", "run-0.stderr", "run-0.stdout"],
        "only the completed run may remain"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["interrupted"], true);
    assert!(common::files(&res).iter().all(|n| !n.starts_with('.')));
    let loaded = load_results(&[res]).unwrap();
    assert_eq!(loaded[0].records.len(), 1);
    assert!(loaded[0].records[0].0.outcome.is_ok());
}

#[test]
fn sigterm_keeps_completed_runs_and_leaves_no_partial_files() {
    interrupt_mid_run(nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn sigint_keeps_completed_runs_and_leaves_no_partial_files() {
    interrupt_mid_run(nix::sys::signal::Signal::SIGINT);
}
