//! Aggregation: one decoded profile -> per-function self and cumulative sample counts.
//!
//! Function identity is a portable file path plus the qualified name, never the line number
//! (lines move between versions). Paths are made portable so that a baseline recorded on one
//! machine compares with a candidate from another:
//! - inside the workload's repository -> repo-relative (`src/app/core.py`)
//! - standard library -> `<stdlib>/json/encoder.py`
//! - site-packages / dist-packages -> `<site-packages>/pkg/mod.py`
//! - synthetic frames keep their names (`~` file with `<GC>` / `<native>`), and `<frozen runpy>`
//!   style names stay as they are.
//!
//! Cumulative counts count a function once per sample even when it recurses.

use serde::{Deserialize, Serialize};

/// A function, as compared across versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FunctionId {
    /// Portable file path (see module docs).
    pub file: String,
    /// Qualified name (`Klass.meth`, `main.<locals>.<lambda>`).
    pub name: String,
}

impl FunctionId {
    pub fn new(file: impl Into<String>, name: impl Into<String>) -> Self {
        FunctionId {
            file: file.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for FunctionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.name)
    }
}

/// Counts for one function in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionStat {
    #[serde(flatten)]
    pub function: FunctionId,
    /// Samples in which this function is the leaf.
    #[serde(rename = "self")]
    pub self_samples: u64,
    /// Samples in which this function is anywhere on the stack (once per sample).
    #[serde(rename = "cumulative")]
    pub cumulative_samples: u64,
}

/// A merged, function-level stack with its sample count: `frames` index into
/// [`RunAggregate::functions`], root first. Used for flame graphs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackCount {
    pub frames: Vec<u32>,
    pub count: u64,
}

/// Everything later stages need from one run's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunAggregate {
    /// All samples counted (after dropping ignored frames and empty stacks).
    pub total_samples: u64,
    /// Sorted by `function`.
    pub functions: Vec<FunctionStat>,
    /// Function-level stacks (optional: baselines omit them to stay small).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stacks: Vec<StackCount>,
}
