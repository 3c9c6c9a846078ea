//! Golden files for the HTML page and the flame-graph data of a comparison of real profiles:
//! four short CPython 3.15 runs of `tests/data/compare/workloads/gatework.py` per side, the head
//! with `gamma` doing twice the work (recorded by `scripts/record-fixtures.sh PYTHON golden`).
//! No Python needed: the results directories are built around the committed profiles.
//!
//! Re-bless after an intended change: `TACHYGATE_BLESS=1 cargo test --test report_golden`,
//! then review `git diff tests/data/golden/expected`.

mod common;

use common::{golden, synth, tachygate};
use std::path::{Path, PathBuf};

fn profiles(side: &str) -> Vec<PathBuf> {
    (0..4)
        .map(|i| common::data_dir().join(format!("golden/{side}/run-{i}.bin")))
        .collect()
}

/// `tachygate compare base head`; returns the reports directory.
fn compare(dir: &Path) -> PathBuf {
    synth::results_dir(&dir.join("base"), "gatework", &profiles("base"));
    synth::results_dir(&dir.join("head"), "gatework", &profiles("head"));
    let out = dir.join("reports");
    tachygate()
        .current_dir(dir)
        .args(["compare", "-b", "base", "-c", "head", "--label", "golden"])
        .arg("--reports")
        .arg(&out)
        .assert()
        .code(1);
    out
}

/// Volatile parts of a report made on this machine now: the temporary directory, the time
/// of the comparison (from report.json), the version and commit of this build.
fn normalised(text: &str, dir: &Path, reports: &Path) -> String {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    let created: chrono::DateTime<chrono::Utc> = report["created"]
        .as_str()
        .expect("report.json has a creation time")
        .parse()
        .unwrap();
    let minute = created.format("%Y-%m-%d %H:%M").to_string();
    let version = format!("tachygate {}", env!("CARGO_PKG_VERSION"));
    let dir = dir.display().to_string();
    golden::normalise(
        text,
        &[
            (&dir, "<TMP>"),
            (&minute, "<CREATED>"),
            (&version, "tachygate <VERSION>"),
            (env!("TACHYGATE_GIT_COMMIT"), "<COMMIT>"),
        ],
    )
}

#[test]
fn html_page_of_a_real_comparison_matches_its_golden_file() {
    let d = tempfile::tempdir().unwrap();
    let out = compare(d.path());
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    golden::check("index.html", &normalised(&html, d.path(), &out));
}

#[test]
fn flame_graph_data_of_a_real_comparison_matches_its_golden_file() {
    let d = tempfile::tempdir().unwrap();
    let out = compare(d.path());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let flame: Vec<&serde_json::Value> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["flame"])
        .collect();
    assert!(
        flame
            .iter()
            .all(|f| f["stacks"].as_array().is_some_and(|s| !s.is_empty())),
        "every scenario carries flame stacks"
    );
    let text = serde_json::to_string_pretty(&flame).unwrap() + "\n";
    golden::check("flame.json", &normalised(&text, d.path(), &out));
}
