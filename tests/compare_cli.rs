//! `tachygate compare` on synthetic baseline files (no Python needed): exit codes, the
//! compatibility refusal and `--allow-mismatch`, budgets and focus from scenario definitions,
//! `--fail-on improved`, report output, and usage errors.

mod common;

use common::synth;
use common::tachygate;
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use tachygate::baseline::SampleSet;

const FUNCS: [(&str, f64); 6] = [
    ("hot", 0.30),
    ("warm", 0.20),
    ("parse", 0.15),
    ("render", 0.15),
    ("io", 0.12),
    ("misc", 0.08),
];

/// Five runs with per-function "work" `work[i]` and a fixed, small run-to-run wobble
/// (deterministic; about 0.3 points of share).
fn set(scenario: &str, work: &[f64]) -> SampleSet {
    let wobble = [0.0, 0.01, -0.01, 0.005, -0.005];
    let runs = wobble
        .iter()
        .enumerate()
        .map(|(r, w)| {
            let t: Vec<f64> = work
                .iter()
                .enumerate()
                .map(|(i, x)| x * (1.0 + if i % 2 == r % 2 { *w } else { -*w }))
                .collect();
            let total: f64 = t.iter().sum();
            let counts: Vec<u64> = t
                .iter()
                .map(|x| (x / total * 2000.0).round() as u64)
                .collect();
            let sum: u64 = counts.iter().sum();
            let mut functions: Vec<_> = FUNCS
                .iter()
                .zip(&counts)
                .map(|((name, _), c)| synth::stat("app/work.py", name, *c, *c))
                .collect();
            functions.push(synth::stat("app/work.py", "main", 0, sum));
            synth::run(functions)
        })
        .collect();
    synth::sample_set(scenario, runs)
}

fn base_work() -> Vec<f64> {
    FUNCS.iter().map(|(_, w)| *w).collect()
}

fn write(dir: &Path, name: &str, s: &SampleSet) -> PathBuf {
    let p = dir.join(name);
    s.save(&p).unwrap();
    p
}

#[test]
fn unchanged_passes_and_writes_reports() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.json", &set("demo", &base_work()));
    let b = write(d.path(), "b.json", &set("demo", &base_work()));
    let out = d.path().join("rep");
    tachygate()
        .args(["compare"])
        .arg(&a)
        .arg(&b)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS: 1 scenario(s)"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "pass");
    assert!(out.join("index.html").is_file() && out.join("junit.xml").is_file());
}

#[test]
fn slowdown_fails_with_exit_1_and_only_that_function_regresses() {
    let d = tempfile::tempdir().unwrap();
    let mut slow = base_work();
    slow[2] *= 1.5; // parse: +7.5 points of the baseline's total
    let a = write(d.path(), "a.json", &set("demo", &base_work()));
    let b = write(d.path(), "b.json", &set("demo", &slow));
    let out = d.path().join("rep");
    let assert = tachygate()
        .arg("compare")
        .arg("--baseline")
        .arg(&a)
        .arg("--candidate")
        .arg(&b)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("app/work.py:parse"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let flagged: Vec<(String, String, String)> = json["scenarios"][0]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] == "regressed" || f["verdict"] == "improved")
        .map(|f| {
            (
                f["function"]["name"].as_str().unwrap().to_string(),
                f["metric"].as_str().unwrap().to_string(),
                f["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The raw shares of every other function fell by ~2 points: without the compositional
    // correction they would be "improved".
    assert_eq!(
        flagged,
        vec![
            ("parse".into(), "self".into(), "regressed".into()),
            ("parse".into(), "cumulative".into(), "regressed".into()),
        ],
        "{stdout}"
    );
}

#[test]
fn speedup_passes_and_fail_on_improved_fails() {
    let d = tempfile::tempdir().unwrap();
    let mut fast = base_work();
    fast[0] *= 0.5; // hot: -15 points; raw shares of the others rise by ~18%
    let a = write(d.path(), "a.json", &set("demo", &base_work()));
    let b = write(d.path(), "b.json", &set("demo", &fast));
    let out = d.path().join("rep");
    tachygate()
        .arg("compare")
        .args([&a, &b])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("IMPROVED"))
        .stdout(predicate::str::contains("REGRESSED").not());
    tachygate()
        .arg("compare")
        .args([&a, &b])
        .arg("--out")
        .arg(&out)
        .args(["--fail-on", "improved"])
        .assert()
        .code(1);
}

#[test]
fn mismatched_captures_are_refused_unless_allowed() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.json", &set("demo", &base_work()));
    let mut wall = set("demo", &base_work());
    wall.sampler.mode = tachygate::scenario::Mode::Wall;
    wall.sampler.rate_hz = 10_000;
    let b = write(d.path(), "b.json", &wall);
    let out = d.path().join("rep");
    tachygate()
        .arg("compare")
        .args([&a, &b])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "mode: baseline gil, candidate wall",
        ))
        .stdout(predicate::str::contains(
            "rate: baseline 1000 Hz, candidate 10000 Hz",
        ));
    tachygate()
        .arg("compare")
        .args([&a, &b])
        .arg("--out")
        .arg(&out)
        .arg("--allow-mismatch")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("--allow-mismatch"));
}

#[test]
fn budget_and_focus_come_from_the_scenario_definition() {
    let d = tempfile::tempdir().unwrap();
    let scen = d.path().join("scenarios");
    std::fs::create_dir_all(&scen).unwrap();
    std::fs::write(scen.join("work.py"), "pass\n").unwrap();
    std::fs::write(
        scen.join("demo.toml"),
        "[workload]\nscript = \"work.py\"\n\n[gate]\nfocus = [\"*:render\"]\n\n[gate.functions.\"*:hot\"]\nmax_share = 0.25\n",
    )
    .unwrap();
    let mut slow = base_work();
    slow[2] *= 1.5; // parse regresses but is not in focus
    let a = write(d.path(), "a.json", &set("demo", &base_work()));
    let b = write(d.path(), "b.json", &set("demo", &slow));
    let out = d.path().join("rep");
    let assert = tachygate()
        .arg("compare")
        .args([&a, &b])
        .arg("--scenarios")
        .arg(&scen)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("REGRESSED (not gated)"), "{stdout}");
    assert!(stdout.contains("BUDGET"), "{stdout}");
    // Without the budget, an ungated regression alone passes.
    std::fs::write(
        scen.join("demo.toml"),
        "[workload]\nscript = \"work.py\"\n\n[gate]\nfocus = [\"*:render\"]\n",
    )
    .unwrap();
    tachygate()
        .arg("compare")
        .args([&a, &b])
        .arg("--scenarios")
        .arg(&scen)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
}

#[test]
fn directories_of_baselines_compare_by_scenario() {
    let d = tempfile::tempdir().unwrap();
    let (x, y) = (d.path().join("x"), d.path().join("y"));
    write(&x, "one.json", &set("one", &base_work()));
    write(&x, "two.json", &set("two", &base_work()));
    write(&y, "one.json", &set("one", &base_work()));
    let out = d.path().join("rep");
    tachygate()
        .arg("compare")
        .args([&x, &y])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("two: only on the baseline side"));
}

#[test]
fn usage_errors_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.json", &set("demo", &base_work()));
    let out = d.path().join("rep");
    // Missing candidate.
    tachygate()
        .arg("compare")
        .arg(&a)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    // Nonexistent path.
    tachygate()
        .arg("compare")
        .arg(&a)
        .arg(d.path().join("nope.json"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.json"));
    // A corrupt baseline names the file and the position.
    let bad = d.path().join("bad.json");
    std::fs::write(&bad, "{\"version\": 1, \"scenario\": ").unwrap();
    tachygate()
        .arg("compare")
        .args([&a, &bad])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.json").and(predicate::str::contains("line 1")));
    // Fewer than 2 runs on a side is refused.
    let mut one = set("demo", &base_work());
    one.runs.truncate(1);
    let one = write(d.path(), "one.json", &one);
    tachygate()
        .arg("compare")
        .args([&a, &one])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("at least 2 runs"));
    // Bad confidence.
    tachygate()
        .arg("compare")
        .args([&a, &a])
        .args(["--confidence", "1.5"])
        .assert()
        .code(2);
}

/// A project in a temp dir: `scenarios/demo.toml` with a 10-point min_effect (so the +7.5
/// point slow-down below passes with the project's settings and fails with the defaults),
/// `docs/`, and the two sides in `baselines/`.
fn project_with_lenient_gate(root: &Path) -> (PathBuf, PathBuf) {
    let scen = root.join("scenarios");
    std::fs::create_dir_all(&scen).unwrap();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(scen.join("work.py"), "pass\n").unwrap();
    std::fs::write(
        scen.join("demo.toml"),
        "[workload]\nscript = \"work.py\"\n\n[gate]\nmin_effect = 10.0\n",
    )
    .unwrap();
    let mut slow = base_work();
    slow[2] *= 1.5; // parse: +7.5 points
    let a = write(
        &root.join("baselines"),
        "a.json",
        &set("demo", &base_work()),
    );
    let b = write(&root.join("baselines"), "b.json", &set("demo", &slow));
    (a, b)
}

#[test]
fn compare_gives_the_same_verdict_from_any_directory() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("proj");
    let (a, b) = project_with_lenient_gate(&root);
    let out = d.path().join("rep");
    // From the root, from docs/ (it used to fall back to default settings there and FAIL),
    // and from an unrelated directory: the project is found above the inputs.
    for cwd in [root.clone(), root.join("docs"), d.path().to_path_buf()] {
        let assert = tachygate()
            .current_dir(&cwd)
            .arg("compare")
            .args([&a, &b])
            .arg("--out")
            .arg(&out)
            .assert()
            .code(0);
        let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
        assert!(
            stdout.contains("PASS: 1 scenario(s)"),
            "from {cwd:?}: {stdout}"
        );
        assert!(!stdout.contains("default gate settings"), "{stdout}");
    }
    // Inputs outside the project, run from inside it: the project is found above the
    // current directory.
    let elsewhere = d.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let (a2, b2) = (elsewhere.join("a.json"), elsewhere.join("b.json"));
    std::fs::copy(&a, &a2).unwrap();
    std::fs::copy(&b, &b2).unwrap();
    tachygate()
        .current_dir(root.join("docs"))
        .arg("compare")
        .args([&a2, &b2])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    // The test can fail: without the definitions the default 1-point min_effect fails.
    let empty = d.path().join("no-scenarios");
    std::fs::create_dir_all(empty.join("scenarios")).unwrap();
    std::fs::write(
        empty.join("scenarios/other.toml"),
        "[workload]\nscript = \"x.py\"\n",
    )
    .unwrap();
    let assert = tachygate()
        .current_dir(d.path())
        .arg("compare")
        .args([&a2, &b2])
        .arg("--scenarios")
        .arg(empty.join("scenarios"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("no definition of scenario demo"),
        "{stdout}"
    );
}

#[test]
fn sides_whose_functions_do_not_match_are_refused_with_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.json", &set("demo", &base_work()));
    // The same workload recorded elsewhere with absolute paths: every function differs.
    let mut moved = set("demo", &base_work());
    for run in &mut moved.runs {
        for f in &mut run.functions {
            f.function.file = format!("/home/other/checkout/{}", f.function.file);
        }
    }
    let b = write(d.path(), "b.json", &moved);
    let out = d.path().join("rep");
    let assert = tachygate()
        .arg("compare")
        .args([&a, &b])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("do not profile the same functions"),
        "{stdout}"
    );
    assert!(stdout.contains("different locations"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["scenarios"][0]["status"], "error");
}

/// A closed stdout (`tachygate compare ... | head -1`) drops the table but not the verdict: the
/// reports are written and a regression still exits 1.
#[test]
fn a_closed_stdout_does_not_change_the_verdict() {
    let d = tempfile::tempdir().unwrap();
    let mut slow = base_work();
    slow[2] *= 1.5;
    let a = write(d.path(), "a.json", &set("demo", &base_work()));
    let b = write(d.path(), "b.json", &set("demo", &slow));
    let out = d.path().join("rep");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_tachygate"))
        .arg("compare")
        .args([&a, &b])
        .arg("--reports")
        .arg(&out)
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdout(common::closed_stdout())
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.join("report.json").is_file());
}
