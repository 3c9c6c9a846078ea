//! `tachygate report`: re-rendering from a saved report.json, its defaults, its errors, and
//! the GitHub step summary.

mod common;

use common::tachygate;

use predicates::prelude::*;
use std::path::Path;
use tachygate::report::fixture;

fn save_sample(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("report.json");
    tachygate::fsutil::write_json_atomic(&p, &fixture::sample_report()).unwrap();
    p
}

#[test]
fn renders_all_formats_next_to_the_input_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    save_sample(tmp.path());
    tachygate()
        .arg("report")
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("index.html").and(predicate::str::contains("junit.xml")));
    assert_eq!(
        common::files(tmp.path()),
        ["index.html", "junit.xml", "report.json", "summary.md"]
    );
    let md = std::fs::read_to_string(tmp.path().join("summary.md")).unwrap();
    assert!(md.starts_with("## ⚠️ tachygate: error"), "{md}");
}

#[test]
fn format_and_out_select_files_and_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let input = save_sample(tmp.path());
    let out = tmp.path().join("out");
    tachygate()
        .args(["report", "--format", "md,junit", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    assert_eq!(common::files(&out), ["junit.xml", "summary.md"]);
    assert_eq!(common::files(tmp.path()), ["out", "report.json"]);
}

#[test]
fn invalid_json_exits_2_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("report.json");
    std::fs::write(&p, "{\n  \"schema_version\": 1,\n  \"label\": [\n}\n").unwrap();
    tachygate().arg("report").arg(&p).assert().code(2).stderr(
        predicate::str::contains("report.json:3:11: not a tachygate report: invalid type")
            .and(predicate::str::contains("not a tachygate report")),
    );
    assert_eq!(
        common::files(tmp.path()),
        ["report.json"],
        "nothing written on error"
    );
}

#[test]
fn missing_input_and_unknown_format_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    tachygate()
        .arg("report")
        .arg(tmp.path().join("nope.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.json"));
    tachygate()
        .arg("report")
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no report.json in directory"));
    save_sample(tmp.path());
    tachygate()
        .args(["report", "--format", "html,pdf"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown report format \"pdf\""));
}

#[test]
fn step_summary_is_appended_unless_opted_out() {
    let tmp = tempfile::tempdir().unwrap();
    save_sample(tmp.path());
    let summary = tmp.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    tachygate()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["report", "--format", "html"])
        .arg(tmp.path().join("report.json"))
        .assert()
        .success();
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n## ⚠️ tachygate: error"),
        "{text}"
    );
    tachygate()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("TACHYGATE_STEP_SUMMARY", "0")
        .args(["report", "--format", "html"])
        .arg(tmp.path().join("report.json"))
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        text,
        "opt-out ignored"
    );
}

#[test]
fn quiet_prints_nothing_on_success() {
    let tmp = tempfile::tempdir().unwrap();
    save_sample(tmp.path());
    tachygate()
        .args(["-q", "report"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
}
