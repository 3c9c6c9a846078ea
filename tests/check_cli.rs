//! `tachygate baseline update` + `tachygate check` end to end with the real profiler on a tiny
//! scenario (`tests/data/check/scenarios/gatequick.toml`, ~0.5 s runs): exit 0 on unchanged
//! code, 0 when one function got faster (no untouched function may "regress"), 1 with the
//! slow knob, and the missing-baseline behaviour. Holds the profiler lock.

mod common;

use common::tachygate;

use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn scenarios() -> PathBuf {
    common::data_dir().join("check/scenarios")
}

fn check(python: &Path, tmp: &Path, tag: &str) -> assert_cmd::Command {
    let mut c = tachygate();
    c.arg("check")
        .arg(scenarios())
        .arg("--python")
        .arg(python)
        .arg("--baselines")
        .arg(tmp.join("baselines"))
        .arg("--results")
        .arg(tmp.join(format!("results-{tag}")))
        .arg("--out")
        .arg(tmp.join(format!("reports-{tag}")));
    c
}

#[test]
fn check_exits_0_on_unchanged_and_faster_code_and_1_with_the_slow_knob() {
    let Some(python) = common::python() else {
        return;
    };
    let _lock = common::profiler_lock();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    tachygate()
        .args(["baseline", "update", "--scenarios"])
        .arg(scenarios())
        .arg("--dir")
        .arg(t.join("baselines"))
        .arg("--results")
        .arg(t.join("results-base"))
        .arg("--python")
        .arg(&python)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("wrote"));
    // One file per machine class: baselines/gatequick/<class id>.json.
    let class_file = std::fs::read_dir(t.join("baselines/gatequick"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(class_file).unwrap();
    assert!(
        text.contains(r#""name": "gamma", "self": "#),
        "one function per line: {text}"
    );

    check(&python, t, "same")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS"));

    // calibrate on the baseline's runs (no new runs): an A/A of interleaved halves.
    tachygate()
        .args(["calibrate", "gatequick", "--scenarios"])
        .arg(scenarios())
        .arg("--from")
        .arg(t.join("results-base"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("gatework.py:alpha"))
        .stdout(predicate::str::contains("noise floor"))
        .stdout(predicate::str::contains(
            "false alarms in this A/A comparison",
        ));

    // The compositional case from the tracker: alpha does half the work (-17 points), every
    // untouched share grows by ~20% relative - nothing may be flagged regressed, exit 0.
    let out = check(&python, t, "fast")
        .env("GATEWORK_SLOW", "alpha=0.5")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8_lossy(&out);
    assert!(!stdout.contains("REGRESSED"), "{stdout}");
    assert!(stdout.contains("IMPROVED"), "{stdout}");

    // gamma does 2x the work: ~+17 points of the baseline's samples.
    let out = check(&python, t, "slow")
        .env("GATEWORK_SLOW", "gamma")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8_lossy(&out);
    assert!(stdout.contains("gatework.py:gamma"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.join("reports-slow/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["status"], "fail");
    let regressed_self: Vec<&str> = report["scenarios"][0]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] == "regressed" && f["metric"] == "self")
        .map(|f| f["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(regressed_self, vec!["gamma"], "{stdout}");
}

#[test]
fn missing_baseline_is_skipped_with_the_command_that_creates_it() {
    // Nothing runs: no Python needed.
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    tachygate()
        .arg("check")
        .arg(scenarios())
        .arg("--baselines")
        .arg(t.join("none"))
        .arg("--out")
        .arg(t.join("rep"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("NO BASELINE FOR THIS MACHINE"))
        .stdout(predicate::str::contains(
            "Record one for this machine with: tachygate baseline update gatequick",
        ));
    // Visible in every report too, not only on the terminal.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.join("rep/report.json")).unwrap()).unwrap();
    assert_eq!(report["scenarios"][0]["status"], "no_baseline_for_machine");
    let md = std::fs::read_to_string(t.join("rep/summary.md")).unwrap();
    assert!(
        md.contains("no baseline recorded for this scenario"),
        "{md}"
    );
    tachygate()
        .arg("check")
        .arg(scenarios())
        .arg("--baselines")
        .arg(t.join("none"))
        .arg("--out")
        .arg(t.join("rep"))
        .arg("--require-baselines")
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "no baseline for scenario gatequick",
        ));
}
