//! Scenarios: TOML files in `scenarios/` that declare a Python workload and how to sample it.
//!
//! This module owns the schema, discovery (walkdir), and validation with file:line:col errors.
//! Its output, [`Scenario`], is what the runner consumes. [`SamplerSettings`] is also the
//! "capture settings" that run records and baselines carry, so that comparisons can refuse
//! to compare captures made differently.
//!
//! One scenario per file: files diff and shard independently, and a file's stem is the
//! default name. See `docs/scenarios.md` for the schema.

mod load;
mod model;
mod raw;
mod select;

pub use load::{
    default_dir, discover, find_project_root, in_project, load_file, load_str, parse_rate,
    preflight, project_root, ScenarioError, CPU_BLOCKING, DEFAULT_DIR, DEFAULT_PREPARE_TIMEOUT_S,
    DEFAULT_TIMEOUT_S, MIN_REPEATS,
};
pub(crate) use load::{normalize as normalize_path, relative_to};
pub use model::*;
pub use select::{select, Filter, Shard};

use sha2::{Digest, Sha256};

impl Scenario {
    /// Directory of the scenario file: relative settings resolve against it.
    pub fn dir(&self) -> std::path::PathBuf {
        self.source
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| std::path::PathBuf::from("/"))
    }

    /// SHA-256 (hex) over the resolved settings that affect what a profile measures: target,
    /// arguments, working directory, environment, interpreter and sampler settings. Paths enter
    /// relative to the scenario file, so the same checkout on two machines agrees. Run counts,
    /// health thresholds, timeouts and gate settings are left out: changing them does not make
    /// old runs incomparable.
    pub fn fingerprint(&self) -> String {
        let dir = self.dir();
        let rel = |p: &std::path::Path| relative_to(p, &dir).to_string_lossy().replace('\\', "/");
        let target = match &self.workload.target {
            Target::Script(p) => serde_json::json!({ "script": rel(p) }),
            Target::Module(m) => serde_json::json!({ "module": m }),
        };
        let mut canonical = serde_json::json!({
            "v": 1,
            "name": self.name,
            "target": target,
            "args": self.workload.args,
            "cwd": rel(&self.workload.cwd),
            "env": self.workload.env,
            "python": self.workload.python.as_deref().map(rel),
            "expect_exit": self.workload.expect_exit,
            "sampler": self.sampler,
        });
        // Only when set, so that scenarios without them keep their fingerprints (and their
        // committed baselines stay comparable).
        if !self.workload.pythonpath.is_empty() {
            let pp: Vec<String> = self.workload.pythonpath.iter().map(|p| rel(p)).collect();
            canonical["pythonpath"] = serde_json::json!(pp);
        }
        if let Some(p) = &self.prepare {
            canonical["prepare"] = serde_json::json!({ "command": p.command, "cwd": rel(&p.cwd) });
        }
        let mut h = Sha256::new();
        h.update(canonical.to_string().as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests;
