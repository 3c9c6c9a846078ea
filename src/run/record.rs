use crate::scenario::SamplerSettings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Bumped when `RunRecord` changes incompatibly.
pub const RUN_RECORD_VERSION: u32 = 1;

/// How a run ended. Only `Ok` runs are measurements; everything else is excluded from
/// comparison and shown with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunOutcome {
    Ok,
    /// Interpreter missing, not 3.15+, or without `profiling.sampling`.
    InterpreterError {
        message: String,
    },
    /// The profiler could not read the target's memory (ptrace / process_vm_readv).
    PermissionDenied {
        message: String,
    },
    /// The workload exited with a status other than `expect_exit`.
    UnexpectedExit {
        status: Option<i32>,
        signal: Option<i32>,
        stderr_tail: String,
    },
    Timeout {
        after_s: f64,
    },
    TooFewSamples {
        samples: u64,
        minimum: u64,
    },
    /// Sampler error rate (percent) above the threshold after all retries.
    HighErrorRate {
        error_rate_pct: f64,
        threshold_pct: f64,
    },
    /// p99 inter-sample gap above `max_gap_ratio` x interval after all retries.
    SamplerStalls {
        p99_gap_us: f64,
        interval_us: f64,
    },
    /// The profile could not be decoded.
    BadProfile {
        message: String,
    },
    /// The scenario's `[prepare]` command failed, so nothing ran.
    PrepareFailed {
        message: String,
    },
    Interrupted,
}

impl RunOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, RunOutcome::Ok)
    }
}

/// Measured by the decoder; re-exported here because run records store it.
pub use crate::profile::GapStats;

/// Where and on what a run was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Environment {
    pub hostname: String,
    pub cpu_model: String,
    pub cores: u32,
    /// Full `sys.version` of the interpreter.
    pub python_version: String,
    pub python_path: PathBuf,
    /// Git commit of the workload's repository, if it is in one.
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    /// `std::env::consts::OS` / `ARCH` of the recording tachygate; empty in records made
    /// before machine classes (see [`Environment::machine_class`]).
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    /// `TACHYGATE_MACHINE_CLASS` when the run was recorded: replaces the computed class id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_class_override: Option<String>,
}

/// One profiled run of one scenario: written as `run-<k>.json` beside `run-<k>.bin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub version: u32,
    pub scenario: String,
    /// Hash of the scenario's resolved settings: records with different fingerprints were
    /// made from different scenario definitions.
    pub fingerprint: String,
    /// Repeat index (0-based), not counting warm-up runs.
    pub index: u32,
    /// Attempts made for this repeat (1 + retries used).
    pub attempts: u32,
    pub command: Vec<String>,
    pub sampler: SamplerSettings,
    pub environment: Environment,
    pub outcome: RunOutcome,
    /// Profile file name, relative to the record's directory.
    pub profile: Option<PathBuf>,
    pub exit_status: Option<i32>,
    pub wall_time_s: f64,
    pub samples: u64,
    /// Sampler error rate in percent, from the profile's stats trailer.
    pub error_rate_pct: Option<f64>,
    pub gaps: Option<GapStats>,
    pub started: chrono::DateTime<chrono::Utc>,
    pub ended: chrono::DateTime<chrono::Utc>,
    /// 1-minute load average when the run ended: a busy machine raises error rates and gaps,
    /// and the failure messages say so. Absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_avg: Option<f64>,
}

#[cfg(any(test, feature = "fixtures"))]
impl RunRecord {
    /// A healthy run `index` of `scenario` (profile `run-<index>.bin`, fingerprint
    /// `fp-<scenario>`, started `index` seconds after a fixed instant): test data shared by the
    /// unit tests and `tests/common`.
    pub fn fixture(scenario: &str, index: u32) -> RunRecord {
        let t = chrono::DateTime::from_timestamp(1_700_000_000 + i64::from(index), 0)
            .expect("a fixed timestamp in range");
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
            load_avg: None,
            started: t,
            ended: t,
        }
    }
}
