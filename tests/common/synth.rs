//! Synthetic pipeline data for tests that need no Python: run records, per-run aggregates and
//! sample sets with fixed timestamps, so files written from them are reproducible.

use std::path::{Path, PathBuf};
use tachygate::aggregate::{FunctionId, FunctionStat, RunAggregate};
use tachygate::baseline::{SampleSet, BASELINE_VERSION};
use tachygate::run::{ResultsManifest, RunRecord, MANIFEST};

/// A fixed instant `secs` after 2023-11-14 22:13:20 UTC.
pub fn at(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
}

/// One function's counts.
pub fn stat(file: &str, name: &str, self_samples: u64, cumulative_samples: u64) -> FunctionStat {
    FunctionStat {
        function: FunctionId::new(file, name),
        self_samples,
        cumulative_samples,
    }
}

/// One run: `functions` sorted as the aggregator sorts them, every sample counted once (the
/// total is the sum of self counts), no stacks and no error rate (set them on the result).
pub fn run(mut functions: Vec<FunctionStat>) -> RunAggregate {
    functions.sort_by(|a, b| a.function.cmp(&b.function));
    RunAggregate {
        total_samples: functions.iter().map(|f| f.self_samples).sum(),
        functions,
        error_rate_pct: None,
        stacks: Vec::new(),
    }
}

/// A sample set of `runs`, one session, recorded by CPython 3.15.2 at [`at`]`(0)`.
pub fn sample_set(scenario: &str, runs: Vec<RunAggregate>) -> SampleSet {
    let mut s = SampleSet {
        version: BASELINE_VERSION,
        scenario: scenario.into(),
        fingerprint: "fp".into(),
        sampler: Default::default(),
        environment: Default::default(),
        machine_class: None,
        source: "synthetic".into(),
        created: at(0),
        sessions: Vec::new(),
        run_sessions: Vec::new(),
        runs,
    };
    s.environment.python_version = "3.15.2 (main) [GCC]".into();
    s
}

/// The record of a healthy run `index` of `scenario` (profile `run-<index>.bin`).
pub fn run_record(scenario: &str, index: u32) -> RunRecord {
    RunRecord::fixture(scenario, index)
}

/// A results directory as `tachygate run --results DIR` leaves it: a manifest and one healthy
/// run of `scenario` per profile (copied in as `run-<i>.bin`).
pub fn results_dir(dir: &Path, scenario: &str, profiles: &[PathBuf]) {
    let manifest = ResultsManifest {
        version: 1,
        label: Some(scenario.into()),
        created: at(0),
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
    for (i, profile) in profiles.iter().enumerate() {
        let r = run_record(scenario, i as u32);
        std::fs::write(
            dir.join(scenario).join(format!("run-{i}.json")),
            serde_json::to_vec_pretty(&r).unwrap(),
        )
        .unwrap();
        std::fs::copy(profile, dir.join(scenario).join(format!("run-{i}.bin"))).unwrap();
    }
}
