//! Facts about the machine and the workload's repository, recorded with every run so that a
//! comparison can tell captures from different machines or commits apart, and the **machine
//! class** derived from them: what measurably shifts shares between machines.
//!
//! Why classes: a clean clone on an AMD EPYC machine checking baselines recorded on an Intel
//! Xeon exited 1 with no code change (json-roundtrip `main` self 5.31% -> 9.15%, five
//! "improved" rows elsewhere). Shares are a property of code *and* machine, so a baseline only
//! speaks for the class it was recorded on.

use super::Environment;
use crate::python::Interpreter;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Environment variable that replaces the computed machine class id (tests, or a project
/// that names its runner classes itself). Recorded in every run made while it is set.
pub const MACHINE_CLASS_ENV: &str = "TACHYGATE_MACHINE_CLASS";

/// What measurably shifts shares between machines: CPU model, core count, the Python build,
/// OS and architecture. Two captures are comparable by `check` only within one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineClass {
    /// Short, stable, file-name-safe id: `<cpu slug>-<cores>c-py<x.y.z>-<hash>`, or the
    /// `TACHYGATE_MACHINE_CLASS` override.
    pub id: String,
    /// Normalised CPU model (lower case, no (R)/(TM), no clock speed).
    pub cpu: String,
    pub cores: u32,
    /// `cpython ` + the full `sys.version` (version, build date, compiler), whitespace
    /// collapsed: two builds of the same release can differ (compiler, flags).
    pub python: String,
    pub os: String,
    pub arch: String,
}

impl Environment {
    /// The machine class this environment belongs to. Records made before classes existed
    /// have no `os`/`arch`: tachygate has only ever run on Linux, and the architecture is
    /// inferred from the CPU model (Intel/AMD names are x86_64), else `unknown`.
    pub fn machine_class(&self) -> MachineClass {
        let cpu = normalise_cpu(&self.cpu_model);
        let os = if self.os.is_empty() {
            "linux".to_string()
        } else {
            self.os.clone()
        };
        let arch = if !self.arch.is_empty() {
            self.arch.clone()
        } else if ["intel", "amd", "xeon", "epyc", "ryzen"]
            .iter()
            .any(|v| cpu.contains(v))
        {
            "x86_64".to_string()
        } else {
            "unknown".to_string()
        };
        let python = format!(
            "cpython {}",
            self.python_version
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
        let id = match self.machine_class_override.as_deref().map(slug) {
            Some(o) if !o.is_empty() => o,
            _ => {
                let mut h = Sha256::new();
                for part in [&cpu, &self.cores.to_string(), &python, &os, &arch] {
                    h.update(part.as_bytes());
                    h.update([0u8]);
                }
                let hash: String = h
                    .finalize()
                    .iter()
                    .take(4)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let version = self
                    .python_version
                    .split_whitespace()
                    .next()
                    .unwrap_or("unknown");
                let mut cpu_slug = slug(&cpu);
                cpu_slug.truncate(32);
                let cpu_slug = cpu_slug.trim_end_matches('-');
                let cpu_slug = if cpu_slug.is_empty() { "cpu" } else { cpu_slug };
                format!("{cpu_slug}-{}c-py{}-{hash}", self.cores, slug(version))
            }
        };
        MachineClass {
            id,
            cpu,
            cores: self.cores,
            python,
            os,
            arch,
        }
    }
}

/// `Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz` -> `intel xeon platinum 8370c`;
/// `AMD EPYC 7763 64-Core Processor` -> `amd epyc 7763`. The clock suffix and marketing words
/// carry no information beyond the model number.
pub fn normalise_cpu(model: &str) -> String {
    let mut s = model.to_lowercase();
    for mark in ["(r)", "(tm)", "(c)", "®", "™"] {
        s = s.replace(mark, " ");
    }
    if let Some(at) = s.find('@') {
        s.truncate(at);
    }
    s.split_whitespace()
        .filter(|w| {
            let core_count = w
                .strip_suffix("-core")
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
            !(matches!(*w, "cpu" | "processor") || core_count)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lower-case ASCII letters, digits and `.`, runs of anything else as one `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches(|c| c == '-' || c == '.').to_string()
}

/// Host facts, gathered once per `tachygate run`.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pub hostname: String,
    pub cpu_model: String,
    pub cores: u32,
}

impl Host {
    pub fn probe() -> Host {
        let hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpu_model(&cpuinfo).unwrap_or_default();
        let cores = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(0);
        Host {
            hostname,
            cpu_model,
            cores,
        }
    }

    /// The machine class runs with `python` on this host will have (without touching git).
    pub fn class_for(&self, python: &Interpreter) -> MachineClass {
        Environment {
            hostname: self.hostname.clone(),
            cpu_model: self.cpu_model.clone(),
            cores: self.cores,
            python_version: python.version.clone(),
            python_path: python.path.clone(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            machine_class_override: machine_class_override(),
            ..Environment::default()
        }
        .machine_class()
    }

    pub fn environment(&self, python: &Interpreter, cwd: &Path) -> Environment {
        let (git_commit, git_dirty) = crate::git::head_state(cwd);
        Environment {
            hostname: self.hostname.clone(),
            cpu_model: self.cpu_model.clone(),
            cores: self.cores,
            python_version: python.version.clone(),
            python_path: python.path.clone(),
            git_commit,
            git_dirty,
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            machine_class_override: machine_class_override(),
        }
    }
}

/// `TACHYGATE_MACHINE_CLASS`, when set to something non-blank.
pub fn machine_class_override() -> Option<String> {
    std::env::var(MACHINE_CLASS_ENV)
        .ok()
        .filter(|v| !slug(v).is_empty())
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "model name").then(|| v.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_reads_the_first_model_name_line() {
        let info = "processor\t: 0\nvendor_id\t: X\nmodel name\t: Fancy CPU @ 3GHz\n\nprocessor\t: 1\nmodel name\t: Other\n";
        assert_eq!(cpu_model(info).as_deref(), Some("Fancy CPU @ 3GHz"));
        assert_eq!(cpu_model("processor: 0\n"), None);
    }

    fn env(cpu: &str, cores: u32, py: &str) -> Environment {
        Environment {
            cpu_model: cpu.into(),
            cores,
            python_version: py.into(),
            os: "linux".into(),
            arch: "x86_64".into(),
            ..Environment::default()
        }
    }

    #[test]
    fn cpu_models_normalise_to_the_model_number() {
        assert_eq!(
            normalise_cpu("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"),
            "intel xeon platinum 8370c"
        );
        assert_eq!(
            normalise_cpu("AMD EPYC 7763 64-Core Processor"),
            "amd epyc 7763"
        );
        assert_eq!(normalise_cpu("  "), "");
    }

    #[test]
    fn class_id_is_short_stable_and_separates_what_shifts_shares() {
        let py = "3.15.2 (main, Oct 26 2026, 15:10:10) [GCC 16.2.0]";
        let a = env("AMD EPYC 7763 64-Core Processor", 4, py).machine_class();
        assert!(a.id.starts_with("amd-epyc-7763-4c-py3.15.2-"), "{}", a.id);
        assert_eq!(a.id.len(), "amd-epyc-7763-4c-py3.15.2-".len() + 8);
        // Stable: same inputs, same id (hostname and paths do not matter).
        let mut same = env("AMD EPYC 7763 64-Core Processor", 4, py);
        same.hostname = "other".into();
        same.python_path = "/elsewhere/python3.15".into();
        assert_eq!(same.machine_class(), a);
        for other in [
            env("Intel(R) Xeon(R) Processor", 4, py),
            env("AMD EPYC 7763 64-Core Processor", 2, py),
            env(
                "AMD EPYC 7763 64-Core Processor",
                4,
                "3.15.2 (main, Oct 27 2026, 09:00:00) [Clang 19]",
            ),
        ] {
            assert_ne!(other.machine_class().id, a.id);
        }
        let mut arm = env("AMD EPYC 7763 64-Core Processor", 4, py);
        arm.arch = "aarch64".into();
        assert_ne!(arm.machine_class().id, a.id);
    }

    #[test]
    fn legacy_records_get_linux_and_an_inferred_arch_and_overrides_win() {
        let mut e = env("Intel(R) Xeon(R) Processor", 2, "3.15.2 (main) [GCC]");
        let full = e.machine_class();
        e.os.clear();
        e.arch.clear();
        assert_eq!(e.machine_class(), full);
        e.cpu_model = String::new();
        assert_eq!(e.machine_class().arch, "unknown");
        e.machine_class_override = Some("GitHub ubuntu-latest".into());
        assert_eq!(e.machine_class().id, "github-ubuntu-latest");
    }
}
