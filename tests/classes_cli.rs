//! Machine classes and recording sessions end to end: a baseline of another machine class can
//! never cause exit 1 (status `no_baseline_for_machine`, exit 0 with a notice, exit 2 with
//! `--require-baselines`), the README's first command on a machine of another class reports no
//! regression, and `baseline update --append` adds a tagged session.

mod common;

use common::tachygate;

use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

/// The README's first command (`tachygate check` of the bundled scenarios against the committed
/// baselines) on a machine of another class: nothing is run or compared, exit 0, and every
/// report says why. The class is forced with TACHYGATE_MACHINE_CLASS so the test holds on any
/// machine, including the one the baselines were recorded on.
#[test]
fn readme_check_on_a_machine_of_another_class_reports_no_regression() {
    let Some(python) = common::python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rep");
    let assert = tachygate()
        .current_dir(repo())
        .env("TACHYGATE_MACHINE_CLASS", "fresh-machine-of-another-class")
        .args(["check", "--python"])
        .arg(&python)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("NO BASELINE FOR THIS MACHINE"))
        .stdout(predicate::str::contains(
            "Record one for this machine with: tachygate baseline update json-roundtrip",
        ))
        .stdout(predicate::str::contains(
            "without a baseline for this machine",
        ));
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(!stdout.contains("REGRESSED"), "{stdout}");
    let r = report(&out);
    assert_eq!(r["status"], "pass");
    let scenarios = r["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 6, "{r}");
    for s in scenarios {
        assert_eq!(s["status"], "no_baseline_for_machine", "{s}");
        assert!(s["functions"].as_array().unwrap().is_empty());
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("no baseline for this machine"), "{md}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains(
            "<skipped message=\"no baseline for this machine class fresh-machine-of-another-class"
        ),
        "{junit}"
    );
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("no_baseline_for_machine"));

    // The flag makes it fail the gate as a configuration error, never as a regression.
    tachygate()
        .current_dir(repo())
        .env("TACHYGATE_MACHINE_CLASS", "fresh-machine-of-another-class")
        .args([
            "check",
            "-s",
            "json-roundtrip",
            "--require-baselines",
            "--python",
        ])
        .arg(&python)
        .arg("--out")
        .arg(tmp.path().join("rep-req"))
        .assert()
        .code(2)
        .stdout(predicate::str::contains("--require-baselines"));
}

/// A real regression (gamma does twice the work) checked against a baseline of another class:
/// exit 0 with the notice; the same files with the baseline's class rewritten to the
/// candidate's: exit 1. So the exit 0 comes from the class rule, not from a missed regression.
/// Also `baseline update --append`: a second session, tagged per run.
#[test]
fn another_class_never_fails_the_gate_and_append_adds_a_session() {
    let Some(python) = common::python() else {
        return;
    };
    let _lock = common::profiler_lock();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let scenarios = common::data_dir().join("check/scenarios");
    let baselines = t.join("baselines");
    // Baseline on class "ci-a".
    tachygate()
        .env("TACHYGATE_MACHINE_CLASS", "ci-a")
        .args(["run", "--repeats", "3", "--python"])
        .arg(&python)
        .arg("--out")
        .arg(t.join("results-base"))
        .arg(&scenarios)
        .assert()
        .code(0);
    tachygate()
        .args(["baseline", "update", "--scenarios"])
        .arg(&scenarios)
        .arg("--dir")
        .arg(&baselines)
        .arg("--from")
        .arg(t.join("results-base"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("machine class ci-a"));
    let file = baselines.join("gatequick/ci-a.json");
    assert!(file.is_file());
    // The slowed candidate, recorded on class "ci-b".
    tachygate()
        .env("TACHYGATE_MACHINE_CLASS", "ci-b")
        .env("GATEWORK_SLOW", "gamma")
        .args(["run", "--repeats", "3", "--python"])
        .arg(&python)
        .arg("--out")
        .arg(t.join("results-slow"))
        .arg(&scenarios)
        .assert()
        .code(0);
    let check = |dir: &Path, tag: &str| {
        let mut c = tachygate();
        c.arg("check")
            .arg(&scenarios)
            .arg("--baselines")
            .arg(dir)
            .arg("--from")
            .arg(t.join("results-slow"))
            .arg("--out")
            .arg(t.join(format!("rep-{tag}")));
        c
    };
    check(&baselines, "other-class")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "no baseline for this machine class ci-b",
        ))
        .stdout(predicate::str::contains("ci-a ("))
        .stdout(predicate::str::contains("REGRESSED").not());
    assert_eq!(
        report(&t.join("rep-other-class"))["scenarios"][0]["status"],
        "no_baseline_for_machine"
    );
    // Rewrite the baseline's class to the candidate's: now it is compared, and fails.
    let rewritten = t.join("rewritten");
    std::fs::create_dir_all(rewritten.join("gatequick")).unwrap();
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("\"id\": \"ci-a\"", "\"id\": \"ci-b\"");
    std::fs::write(rewritten.join("gatequick/ci-b.json"), text).unwrap();
    check(&rewritten, "same-class")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("gatework.py:gamma"));

    // --append: the same runs again as a second session of class ci-a.
    tachygate()
        .args(["baseline", "update", "--append", "--scenarios"])
        .arg(&scenarios)
        .arg("--dir")
        .arg(&baselines)
        .arg("--from")
        .arg(t.join("results-base"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("6 runs in 2 session(s)"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches("\"session\": 1,").count(), 3, "{text}");
    assert_eq!(text.matches("\"session\": 0,").count(), 3, "{text}");
    // Classes coexist: runs of class ci-a go to their own file beside ci-b's.
    tachygate()
        .args(["baseline", "update", "--append", "--scenarios"])
        .arg(&scenarios)
        .arg("--dir")
        .arg(&rewritten)
        .arg("--from")
        .arg(t.join("results-base"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("gatequick/ci-a.json"));
    assert!(rewritten.join("gatequick/ci-a.json").is_file());
    assert!(rewritten.join("gatequick/ci-b.json").is_file());
}
