//! The scenario file exactly as written: serde structs that reject unknown keys and keep the
//! byte spans of values whose meaning is checked later, so that semantic errors can point at
//! `file:line:col` just like syntax errors do. Nothing here is trusted; `load` turns it into
//! the validated [`super::Scenario`].

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    pub workload: Spanned<RawWorkload>,
    pub sampler: Option<RawSampler>,
    pub run: Option<RawRun>,
    pub gate: Option<RawGate>,
    pub prepare: Option<Spanned<RawPrepare>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkload {
    pub script: Option<Spanned<String>>,
    pub module: Option<Spanned<String>>,
    #[serde(default)]
    pub args: Vec<String>,
    pub cwd: Option<Spanned<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    pub python: Option<Spanned<String>>,
    #[serde(default)]
    pub pythonpath: Vec<Spanned<String>>,
    pub timeout: Option<Spanned<toml::Value>>,
    pub expect_exit: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrepare {
    pub command: Option<Spanned<toml::Value>>,
    pub cwd: Option<Spanned<String>>,
    pub timeout: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSampler {
    pub mode: Option<Spanned<crate::scenario::Mode>>,
    pub rate: Option<Spanned<toml::Value>>,
    pub duration: Option<Spanned<toml::Value>>,
    pub all_threads: Option<Spanned<bool>>,
    pub native: Option<Spanned<bool>>,
    pub gc: Option<Spanned<bool>>,
    pub opcodes: Option<bool>,
    pub blocking: Option<Spanned<bool>>,
    pub async_aware: Option<Spanned<bool>>,
    pub async_mode: Option<Spanned<crate::scenario::AsyncMode>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRun {
    pub repeats: Option<Spanned<i64>>,
    pub warmup_runs: Option<Spanned<i64>>,
    pub max_error_rate: Option<Spanned<f64>>,
    pub max_gap_ratio: Option<Spanned<f64>>,
    pub retries: Option<Spanned<i64>>,
    pub min_samples: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGate {
    pub min_effect: Option<Spanned<f64>>,
    pub min_effect_rel: Option<Spanned<f64>>,
    #[serde(default)]
    pub ignore: Vec<Spanned<String>>,
    #[serde(default)]
    pub focus: Vec<Spanned<String>>,
    #[serde(default)]
    pub functions: BTreeMap<Spanned<String>, RawFunctionGate>,
    #[serde(default)]
    pub advisory: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFunctionGate {
    pub min_effect: Option<Spanned<f64>>,
    pub max_share: Option<Spanned<f64>>,
}
