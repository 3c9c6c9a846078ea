//! `tachygate run` end to end with the real CPython 3.15 profiler: results layout, records,
//! `load_results`, and every failure outcome. Each profiled run is well under 2 s and every
//! test holds the profiler lock for its whole duration.

mod common;

use common::tachygate;

use std::path::{Path, PathBuf};
use tachygate::run::{load_results, RunOutcome};

fn spin() -> PathBuf {
    common::data_dir().join("workloads/spin.py")
}

/// Writes a scenario running `spin.py` with `extra` TOML appended to `[workload]`.
fn scenario(dir: &Path, name: &str, workload_extra: &str, rest: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    let text = format!(
        "[workload]\nscript = {:?}\n{workload_extra}\n{rest}\n",
        spin().display().to_string()
    );
    std::fs::write(&p, text).unwrap();
    p
}

const LENIENT: &str =
    "[run]\nrepeats = 3\nmin_samples = 20\nmax_error_rate = 90\nmax_gap_ratio = 1000\nretries = 0\n";

#[test]
fn healthy_scenario_writes_complete_records_that_load_results_reads_back() {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let out = tempfile::tempdir().unwrap();
    let res = out.path().join("res");
    let assert = tachygate()
        .args(["run", "-v", "--out"])
        .arg(&res)
        .args(["--label", "t1"])
        .arg(common::data_dir().join("scenarios/ok"))
        .env_remove("CI")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("[1/1] spin run 3/3: ok"), "{stderr}");
    assert!(stderr.contains("spin: warm-up 1/1 starting"), "{stderr}");
    assert!(stderr.contains("command: "), "{stderr}");

    let sdir = res.join("spin");
    let names = common::files(&sdir);
    for k in 0..3 {
        for ext in ["bin", "json", "stdout", "stderr"] {
            assert!(names.contains(&format!("run-{k}.{ext}")), "{names:?}");
        }
    }
    assert_eq!(
        names.len(),
        12,
        "no warm-up or temporary files may remain: {names:?}"
    );
    // The workload saw PYTHONHASHSEED=0 and the scenario's env.
    let stdout = std::fs::read_to_string(sdir.join("run-0.stdout")).unwrap();
    assert!(stdout.contains("marker yes 0"), "{stdout}");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["label"], "t1");
    assert_eq!(manifest["scenarios"], serde_json::json!(["spin"]));
    assert!(manifest["finished"].is_string());

    let loaded = load_results(std::slice::from_ref(&res)).unwrap();
    assert_eq!(loaded.len(), 1);
    let runs = &loaded[0];
    assert_eq!(runs.scenario, "spin");
    assert_eq!(runs.records.len(), 3);
    for (k, (r, profile)) in runs.records.iter().enumerate() {
        assert_eq!(r.index, k as u32);
        assert_eq!(r.outcome, RunOutcome::Ok);
        assert!(profile.is_absolute() && profile.is_file(), "{profile:?}");
        assert_eq!(r.exit_status, Some(0));
        assert!(r.samples >= 20, "{r:?}");
        assert!(r.error_rate_pct.is_some());
        let gaps = r.gaps.expect("gap statistics are recorded");
        assert!(
            gaps.median_us > 0.0 && gaps.p99_us >= gaps.median_us && gaps.max_us >= gaps.p99_us,
            "{gaps:?}"
        );
        assert!(r.wall_time_s > 0.3);
        assert!(r.ended >= r.started);
        assert_eq!(r.command[3..6], ["run", "--binary", "--compression"]);
        assert!(r.environment.python_version.starts_with("3.15"), "{r:?}");
        assert!(r.environment.cores >= 1);
        assert!(!r.environment.hostname.is_empty());
        // tests/data lives in this git repository.
        assert!(r
            .environment
            .git_commit
            .as_deref()
            .is_some_and(|c| c.len() == 40));
    }
    let fp = &runs.records[0].0.fingerprint;
    assert!(runs.records.iter().all(|(r, _)| &r.fingerprint == fp));
}

#[test]
fn unexpected_exit_is_recorded_with_the_stderr_tail_and_exit_3() {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let d = tempfile::tempdir().unwrap();
    let s = scenario(
        d.path(),
        "exits",
        "env = { EXIT_CODE = \"4\", SPIN_SECONDS = \"0.3\" }",
        LENIENT,
    );
    let res = d.path().join("res");
    let out = tachygate()
        .args(["run", "--repeats", "3", "--out"])
        .arg(&res)
        .arg(&s)
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("unexpected exit status 4"), "{stderr}");
    let loaded = load_results(&[res]).unwrap();
    let (r, _) = &loaded[0].records[0];
    assert!(
        matches!(
            &r.outcome,
            RunOutcome::UnexpectedExit {
                status: Some(4),
                signal: None,
                ..
            }
        ),
        "{:?}",
        r.outcome
    );
    assert_eq!(r.exit_status, Some(4));
}

#[test]
fn expect_exit_makes_a_nonzero_status_healthy() {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let d = tempfile::tempdir().unwrap();
    let s = scenario(
        d.path(),
        "exits-expected",
        "env = { EXIT_CODE = \"4\", SPIN_SECONDS = \"0.3\" }\nexpect_exit = 4",
        LENIENT,
    );
    tachygate()
        .args(["run", "-q", "--out"])
        .arg(d.path().join("res"))
        .arg(&s)
        .assert()
        .success();
}

#[test]
fn too_few_samples_is_a_failed_run() {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let d = tempfile::tempdir().unwrap();
    let s = scenario(
        d.path(),
        "short",
        "env = { SPIN_SECONDS = \"0.2\" }",
        "[run]\nrepeats = 3\nmin_samples = 100000\nmax_error_rate = 100\n",
    );
    let res = d.path().join("res");
    tachygate()
        .args(["run", "--out"])
        .arg(&res)
        .arg(&s)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("too few samples"));
    let loaded = load_results(&[res]).unwrap();
    assert!(loaded[0].records.iter().all(|(r, _)| matches!(
        r.outcome,
        RunOutcome::TooFewSamples {
            minimum: 100000,
            ..
        }
    )));
}

#[test]
fn high_error_rate_is_retried_then_recorded() {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let d = tempfile::tempdir().unwrap();
    // A 0.2 s run loses a large share of samples to interpreter shutdown, so a 0% threshold
    // always trips.
    let s = scenario(
        d.path(),
        "noisy",
        "env = { SPIN_SECONDS = \"0.2\" }",
        "[run]\nrepeats = 3\nmin_samples = 1\nmax_error_rate = 0\nretries = 1\n",
    );
    let res = d.path().join("res");
    tachygate()
        .args(["run", "--out"])
        .arg(&res)
        .arg(&s)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("retrying"));
    let loaded = load_results(std::slice::from_ref(&res)).unwrap();
    for (r, _) in &loaded[0].records {
        assert_eq!(r.attempts, 2);
        assert!(
            matches!(r.outcome, RunOutcome::HighErrorRate { .. }),
            "{:?}",
            r.outcome
        );
    }
    let names = common::files(&res.join("noisy"));
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn missing_scenario_interpreter_is_an_interpreter_error_and_exit_3() {
    let d = tempfile::tempdir().unwrap();
    let s = scenario(d.path(), "nopy", "python = \"missing/python3.15\"", LENIENT);
    let res = d.path().join("res");
    tachygate()
        .args(["run", "--out"])
        .arg(&res)
        .arg(&s)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("interpreter error"))
        .stderr(predicates::str::contains("missing/python3.15"));
    let loaded = load_results(&[res]).unwrap();
    assert!(matches!(
        loaded[0].records[0].0.outcome,
        RunOutcome::InterpreterError { .. }
    ));
}

#[test]
fn missing_python_flag_is_a_usage_error() {
    tachygate()
        .args(["run", "--python", "/nonexistent/python3.15"])
        .arg(common::data_dir().join("scenarios/ok"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("uv python install 3.15"));
}

#[test]
fn bad_scenario_file_is_a_usage_error_with_its_position() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.toml");
    std::fs::write(&p, "[workload]\nscript = \"x.py\"\n[sampler]\nrate = 0\n").unwrap();
    tachygate()
        .args(["run", "--out"])
        .arg(d.path().join("res"))
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "bad.toml:4:8: `rate` must be positive",
        ));
    assert!(!d.path().join("res").exists(), "nothing may be written");
}

#[test]
fn invalid_shard_is_a_usage_error() {
    tachygate()
        .args(["run", "--shard", "3/2"])
        .arg(common::data_dir().join("scenarios/ok"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("K must be between 1 and N"));
}

#[test]
fn rerunning_into_the_same_directory_replaces_old_runs() {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let d = tempfile::tempdir().unwrap();
    let s = scenario(
        d.path(),
        "again",
        "env = { SPIN_SECONDS = \"0.3\" }",
        LENIENT,
    );
    let res = d.path().join("res");
    // A stale run from an earlier, longer run of the same scenario.
    std::fs::create_dir_all(res.join("again")).unwrap();
    std::fs::write(res.join("again/run-7.json"), "stale").unwrap();
    std::fs::write(res.join("again/.run-8.bin.partial"), "stale").unwrap();
    tachygate()
        .args(["run", "-q", "--out"])
        .arg(&res)
        .arg(&s)
        .assert()
        .success();
    let names = common::files(&res.join("again"));
    assert!(
        !names.iter().any(|n| n.contains('7') || n.contains('8')),
        "{names:?}"
    );
    assert_eq!(load_results(&[res]).unwrap()[0].records.len(), 3);
}

#[test]
fn a_missing_script_is_reported_before_anything_runs() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("gone.toml");
    std::fs::write(&p, "[workload]\nscript = \"nowhere.py\"\n").unwrap();
    tachygate()
        .args(["run", "--out"])
        .arg(d.path().join("res"))
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("gone.toml: workload script"))
        .stderr(predicates::str::contains("nowhere.py does not exist"));
    assert!(!d.path().join("res").exists());
}

#[test]
fn module_targets_run_with_their_cwd_and_arguments() {
    let Some(_py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("as-module.toml");
    let workloads = common::data_dir().join("workloads");
    std::fs::write(
        &p,
        format!(
            "[workload]\nmodule = \"spin\"\ncwd = {:?}\nargs = [\"--ignored\"]\nenv = {{ SPIN_SECONDS = \"0.3\", EXIT_CODE = \"2\" }}\nexpect_exit = 2\n{LENIENT}",
            workloads.display().to_string()
        ),
    )
    .unwrap();
    let res = d.path().join("res");
    tachygate()
        .args(["run", "-q", "--out"])
        .arg(&res)
        .arg(&p)
        .assert()
        .success();
    let loaded = load_results(&[res]).unwrap();
    let (r, _) = &loaded[0].records[0];
    assert_eq!(r.exit_status, Some(2));
    let n = r.command.len();
    assert_eq!(r.command[n - 3..], ["-m", "spin", "--ignored"]);
}

#[test]
fn jobs_run_every_scenario_and_keep_their_order() {
    // Interpreter errors launch no profiler, so concurrency is safe to test here.
    let d = tempfile::tempdir().unwrap();
    for n in ["c", "a", "b"] {
        scenario(d.path(), n, "python = \"missing/python3.15\"", LENIENT);
    }
    let res = d.path().join("res");
    tachygate()
        .args(["run", "--jobs", "2", "--out"])
        .arg(&res)
        .arg(d.path())
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "--jobs 2 runs profiled workloads concurrently",
        ));
    let loaded = load_results(std::slice::from_ref(&res)).unwrap();
    let names: Vec<&str> = loaded.iter().map(|s| s.scenario.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["scenarios"], serde_json::json!(["a", "b", "c"]));
}
