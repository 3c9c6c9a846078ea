//! Location-independent identity with the real profiler: a project outside any git
//! repository is recorded (`baseline update`) in one temporary directory, copied elsewhere and
//! checked there - from a subdirectory. Function paths are relative to the scenario root (the
//! directory holding `scenarios/`), so every function matches: exit 0, no new/gone rows.
//! Before, paths outside git were absolute: every row was new/gone and the gate passed
//! silently (now that would be exit 2, the identity check). Holds the profiler lock.

mod common;

use common::tachygate;

use std::path::Path;

/// `root/scenarios/work.toml` running `root/app/gatework.py` (a third of the usual work).
fn make_project(root: &Path) {
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::copy(
        common::data_dir().join("compare/workloads/gatework.py"),
        root.join("app/gatework.py"),
    )
    .unwrap();
    std::fs::write(
        root.join("scenarios/work.toml"),
        format!(
            "[workload]\nscript = \"../app/gatework.py\"\nenv = {{ GATEWORK_SCALE = \"0.4\" }}\n{}",
            common::SHORT_RUN_SETTINGS
        ),
    )
    .unwrap();
}

fn outside_git(dir: &Path) -> bool {
    !std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_project_recorded_in_one_place_and_checked_in_another_still_matches_its_functions() {
    let Some(python) = common::python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    if !outside_git(tmp.path()) {
        common::skip(
            &format!(
                "the temporary directory {} is inside a git repository",
                tmp.path().display()
            ),
            "set TMPDIR to a directory outside any git checkout",
        );
        return;
    }
    let _lock = common::profiler_lock();
    let first = tmp.path().join("recorded/proj");
    make_project(&first);
    // Every command sees the project from a subdirectory: `list`, and `baseline update` writes
    // the project's baselines/, not docs/baselines.
    tachygate()
        .current_dir(first.join("docs"))
        .arg("list")
        .assert()
        .code(0)
        .stdout(predicates::str::contains("app/gatework.py"));
    tachygate()
        .current_dir(first.join("docs"))
        .args(["baseline", "update", "--python"])
        .arg(&python)
        .arg("--results")
        .arg(tmp.path().join("results-base"))
        .assert()
        .code(0);
    let baseline =
        std::fs::read_to_string(common::baseline_file(&first.join("baselines"), "work")).unwrap();
    assert!(
        baseline.contains(r#""file": "app/gatework.py", "name": "gamma""#),
        "paths relative to the scenario root: {baseline}"
    );
    assert!(!baseline.contains(&tmp.path().display().to_string()));
    assert!(!first.join("docs/baselines").exists());

    // Copy the whole project elsewhere and check it from a subdirectory.
    let second = tmp.path().join("moved/elsewhere/proj");
    common::copy_dir(&first, &second);
    let out = tmp.path().join("report");
    let assert = tachygate()
        .current_dir(second.join("docs"))
        .args(["check", "--python"])
        .arg(&python)
        .arg("--results")
        .arg(tmp.path().join("results-check"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("PASS: 1 scenario(s)"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let rows = json["scenarios"][0]["functions"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["function"]["name"] == "gamma"),
        "{json}"
    );
    for r in rows {
        assert!(
            r["verdict"] != "new" && r["verdict"] != "gone",
            "functions must match after the move: {r}"
        );
        assert!(
            !r["function"]["file"].as_str().unwrap().starts_with('/'),
            "{r}"
        );
    }
}
