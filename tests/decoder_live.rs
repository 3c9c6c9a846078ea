//! Differential test against the live oracle: record fresh profiles in every sampling mode
//! with the provisioned CPython 3.15 and require `inspect --collapsed` to equal
//! `replay --collapsed` byte for byte, and the header's sample total to be honoured.

mod common;

use common::tachygate;

use std::path::Path;
use std::process::Command as Std;
use tachygate::profile::Profile;

fn record_and_compare(py: &Path, name: &str, flags: &[&str], script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join(format!("{name}.bin"));
    let col = dir.path().join(format!("{name}.collapsed"));
    let src = common::data_dir().join("profiles/src");
    {
        let _lock = common::profiler_lock();
        let st = Std::new(py)
            .current_dir(&src)
            .args(["-m", "profiling.sampling", "run", "--binary", "-d", "1"])
            .args(flags)
            .arg("-o")
            .arg(&bin)
            .arg(script)
            .output()
            .unwrap();
        assert!(st.status.success(), "{name}: profiler failed: {st:?}");
    }
    let st = Std::new(py)
        .args(["-m", "profiling.sampling", "replay", "--collapsed", "-o"])
        .arg(&col)
        .arg(&bin)
        .output()
        .unwrap();
    assert!(st.status.success(), "{name}: replay failed: {st:?}");
    let expected = std::fs::read(&col).unwrap();
    assert!(!expected.is_empty(), "{name}: oracle produced no stacks");
    let out = tachygate()
        .args(["inspect", "--collapsed"])
        .arg(&bin)
        .output()
        .unwrap();
    common::assert_success(&out, name);
    assert!(
        out.stdout == expected,
        "{name}: inspect --collapsed differs from replay\n--- ours\n{}\n--- replay\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected)
    );
    let p = Profile::open(&bin).unwrap();
    let g = tachygate::profile::gap_stats(&p).unwrap();
    assert!(
        g.median_us > 0.0 && g.p99_us >= g.median_us && g.max_us >= g.p99_us,
        "{name}: {g:?}"
    );
}

#[test]
fn live_wall_all_threads_matches_replay() {
    let Some(py) = common::python() else { return };
    record_and_compare(&py, "wall", &["-a", "-r", "1khz"], "threads.py");
}

#[test]
fn live_cpu_matches_replay() {
    let Some(py) = common::python() else { return };
    record_and_compare(&py, "cpu", &["--mode", "cpu", "-r", "2khz"], "cpu_basic.py");
}

#[test]
fn live_gil_matches_replay() {
    let Some(py) = common::python() else { return };
    record_and_compare(
        &py,
        "gil",
        &["--mode", "gil", "-a", "-r", "1khz"],
        "threads.py",
    );
}

#[test]
fn live_exception_matches_replay() {
    let Some(py) = common::python() else { return };
    record_and_compare(
        &py,
        "exception",
        &["--mode", "exception", "-r", "2khz"],
        "exceptions.py",
    );
}

#[test]
fn live_uncompressed_native_opcodes_matches_replay() {
    let Some(py) = common::python() else { return };
    record_and_compare(
        &py,
        "raw_native",
        &[
            "--compression",
            "none",
            "--native",
            "--opcodes",
            "-r",
            "1khz",
        ],
        "cpu_basic.py",
    );
}
