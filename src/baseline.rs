//! Baselines: `baselines/<scenario>.json`, a versioned, diff-friendly record of the
//! per-run, per-function counts that comparison needs (kilobytes, not raw profiles), plus the
//! capture settings and environment they were made with.
//!
//! [`SampleSet`] is also what a results directory turns into, so both sides of a comparison
//! (baseline file vs results dir, or results dir vs results dir) have one type.

use crate::aggregate::RunAggregate;
use crate::run::Environment;
use crate::scenario::SamplerSettings;
use serde::{Deserialize, Serialize};

pub const BASELINE_VERSION: u32 = 1;

/// The usable runs of one scenario, with how they were captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleSet {
    pub version: u32,
    pub scenario: String,
    /// Scenario fingerprint of the runs (see `RunRecord::fingerprint`).
    pub fingerprint: String,
    pub sampler: SamplerSettings,
    pub environment: Environment,
    /// Where these runs came from (a label, results dir or baseline path), for reports.
    pub source: String,
    pub created: chrono::DateTime<chrono::Utc>,
    /// One entry per usable run.
    pub runs: Vec<RunAggregate>,
}
