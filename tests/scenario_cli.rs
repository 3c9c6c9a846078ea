//! `tachygate list` and `doctor`, and `--shard` stability, through the CLI. Only the doctor test
//! launches the profiler (a 0.3 s loop), under the profiler lock.

mod common;

use common::tachygate;

use std::collections::BTreeSet;
use std::path::Path;

fn write_scenarios(dir: &Path, names: &[&str]) {
    // `list` checks that the script exists.
    std::fs::write(dir.join("w.py"), "pass\n").unwrap();
    for n in names {
        std::fs::write(
            dir.join(format!("{n}.toml")),
            "tags = [\"t\"]\n[workload]\nscript = \"w.py\"\n",
        )
        .unwrap();
    }
}

fn listed(dir: &Path, extra: &[&str]) -> BTreeSet<String> {
    let out = tachygate()
        .arg("list")
        .arg(dir)
        .arg("--json")
        .args(extra)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_shows_the_bundled_scenarios_with_resolved_settings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tachygate().current_dir(root).arg("list").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("NAME"), "{text}");
    for name in ["json-roundtrip", "regex-tokenize", "thread-pool"] {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("all_threads"), "{text}");
    // The sample file documenting every key is not a scenario.
    assert!(!text.contains("example"), "{text}");
}

#[test]
fn list_json_has_settings_and_fingerprints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tachygate()
        .current_dir(root)
        .args(["list", "--json", "--tag", "gate"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert!(arr.len() >= 4);
    for s in arr {
        // Gating scenarios sample without bias: the default gil + blocking (docs/sampling-protocol.md).
        assert_eq!(s["sampler"]["mode"], "gil");
        assert_eq!(s["sampler"]["blocking"], true);
        assert_eq!(s["run"]["repeats"], 5);
        assert_eq!(s["fingerprint"].as_str().unwrap().len(), 64);
        assert!(s["tags"].as_array().unwrap().contains(&"gate".into()));
    }
}

#[test]
fn list_reports_bad_files_and_unknown_tags_as_usage_errors() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("bad.toml"),
        "[workload]\nscript = \"x.py\"\nretries = 2\n",
    )
    .unwrap();
    tachygate()
        .arg("list")
        .arg(d.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "bad.toml:3:1: unknown field `retries`",
        ));
    let d = tempfile::tempdir().unwrap();
    write_scenarios(d.path(), &["a"]);
    tachygate()
        .arg("list")
        .arg(d.path())
        .args(["--tag", "nope"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no scenario matches tag `nope`"));
}

#[test]
fn shards_partition_scenarios_and_stay_put_when_others_are_added() {
    let d = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..24).map(|i| format!("s{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    write_scenarios(d.path(), &refs);
    let all = listed(d.path(), &[]);
    let shards: Vec<BTreeSet<String>> = (1..=3)
        .map(|k| listed(d.path(), &["--shard", &format!("{k}/3")]))
        .collect();
    let union: BTreeSet<String> = shards.iter().flatten().cloned().collect();
    assert_eq!(union, all);
    assert_eq!(
        shards.iter().map(BTreeSet::len).sum::<usize>(),
        all.len(),
        "shards overlap"
    );
    assert!(shards.iter().all(|s| !s.is_empty()));

    // Add and remove other scenarios: nobody who stays changes shard.
    write_scenarios(d.path(), &["new-1", "new-2", "zzz"]);
    std::fs::remove_file(d.path().join("s03.toml")).unwrap();
    for (k, before) in shards.iter().enumerate() {
        let after = listed(d.path(), &["--shard", &format!("{}/3", k + 1)]);
        for n in before.iter().filter(|n| *n != "s03") {
            assert!(after.contains(n), "{n} left shard {}", k + 1);
        }
    }
}

#[test]
fn doctor_passes_on_a_provisioned_machine() {
    let Some(py) = common::python() else { return };
    let _lock = common::profiler_lock();
    let out = tachygate()
        .arg("doctor")
        .arg("--python")
        .arg(&py)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for check in [
        "OK    interpreter",
        "OK    profiling.sampling",
        "OK    zstd",
        "OK    ptrace_scope",
        "OK    sample a child",
        "OK    disk",
    ] {
        assert!(text.contains(check), "{check} missing:\n{text}");
    }
}

#[test]
fn doctor_fails_with_a_fix_for_a_missing_interpreter() {
    tachygate()
        .args(["doctor", "--python", "/nonexistent/python3.15"])
        .assert()
        .code(2)
        .stdout(predicates::str::contains("FAIL  interpreter"))
        .stdout(predicates::str::contains("fix:"));
}
