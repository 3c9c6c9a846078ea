//! The sharded workflow's merge step, run verbatim: `.github/workflows/tachygate-sharded.yml`
//! compares `--candidate results/shard-*` (three shards, expanded by the shell into three
//! values) against baselines recorded from the same shards. Before `-c` took several values,
//! the second and third shards became positional sides and the command failed with
//! "appears twice on one side". Synthetic results directories (real profile fixtures, no
//! Python), so this runs everywhere.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use tachygate::run::{
    Environment, ResultsManifest, RunOutcome, RunRecord, MANIFEST, RUN_RECORD_VERSION,
};

fn record(scenario: &str, index: u32) -> RunRecord {
    let t = chrono::DateTime::from_timestamp(1_700_000_000 + index as i64, 0).unwrap();
    RunRecord {
        version: RUN_RECORD_VERSION,
        scenario: scenario.into(),
        fingerprint: format!("fp-{scenario}"),
        index,
        attempts: 1,
        command: vec!["python3.15".into()],
        sampler: Default::default(),
        environment: Environment::default(),
        outcome: RunOutcome::Ok,
        profile: Some(PathBuf::from(format!("run-{index}.bin"))),
        exit_status: Some(0),
        wall_time_s: 1.0,
        samples: 1000,
        error_rate_pct: Some(1.0),
        gaps: None,
        started: t,
        ended: t,
    }
}

/// A results directory as `tachygate run --shard K/3 --results DIR` leaves it: a manifest and
/// five runs of one scenario, each with a real profile.
pub fn shard_results(dir: &Path, scenario: &str, profile: &Path) {
    let manifest = ResultsManifest {
        version: 1,
        label: Some(scenario.into()),
        created: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        finished: None,
        tachygate_version: "0".into(),
        scenarios: vec![scenario.into()],
        shard: None,
        interrupted: false,
    };
    std::fs::create_dir_all(dir.join(scenario)).unwrap();
    std::fs::write(
        dir.join(MANIFEST),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    for i in 0..5 {
        let r = record(scenario, i);
        std::fs::write(
            dir.join(scenario).join(format!("run-{i}.json")),
            serde_json::to_vec_pretty(&r).unwrap(),
        )
        .unwrap();
        std::fs::copy(profile, dir.join(scenario).join(format!("run-{i}.bin"))).unwrap();
    }
}

/// The merge job's compare command, exactly as the workflow has it.
fn workflow_merge_command() -> String {
    let wf = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/tachygate-sharded.yml");
    let text = std::fs::read_to_string(&wf).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("./target/release/tachygate compare"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one compare command in {}: {lines:?}",
        wf.display()
    );
    lines[0].to_string()
}

#[test]
fn the_sharded_workflows_merge_command_works_with_three_shards() {
    let d = tempfile::tempdir().unwrap();
    let profile = common::data_dir().join("profiles/cpu_raw.bin");
    let names = ["alpha", "beta", "gamma"];
    for (k, name) in names.iter().enumerate() {
        shard_results(
            &d.path().join(format!("results/shard-{}", k + 1)),
            name,
            &profile,
        );
    }
    let bin = assert_cmd::cargo::cargo_bin("tachygate");
    // The baselines the merge compares against, recorded from the same shards.
    let out = Command::new(&bin)
        .current_dir(d.path())
        .args(["baseline", "update", "--baselines", "baselines", "--from"])
        .args((1..=3).map(|k| format!("results/shard-{k}")))
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "baseline update: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let cmd = workflow_merge_command();
    let script = cmd.replacen(
        "./target/release/tachygate",
        &format!("'{}'", bin.display()),
        1,
    );
    let out = Command::new("sh")
        .current_dir(d.path())
        .args(["-c", &script])
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("TACHYGATE_STEP_SUMMARY", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "`{cmd}`: {stderr}");
    assert!(!stderr.contains("appears twice"), "{stderr}");
    // The workflow publishes reports/summary.md and the reports directory.
    let report = std::fs::read_to_string(d.path().join("reports/report.json")).unwrap();
    for name in names {
        assert!(
            report.contains(&format!("\"{name}\"")),
            "{name} missing from the report"
        );
    }
    assert!(d.path().join("reports/summary.md").is_file());
}
