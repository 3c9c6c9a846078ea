//! Facts about the machine and the workload's repository, recorded with every run so that a
//! comparison can tell captures from different machines or commits apart.

use super::Environment;
use crate::python::Interpreter;
use std::path::Path;
use std::process::Command;

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

    pub fn environment(&self, python: &Interpreter, cwd: &Path) -> Environment {
        let (git_commit, git_dirty) = git_state(cwd);
        Environment {
            hostname: self.hostname.clone(),
            cpu_model: self.cpu_model.clone(),
            cores: self.cores,
            python_version: python.version.clone(),
            python_path: python.path.clone(),
            git_commit,
            git_dirty,
        }
    }
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "model name").then(|| v.trim().to_string())
    })
}

/// HEAD commit and dirty flag of the git repository containing `dir`; `(None, None)` outside
/// git or without a git binary.
pub fn git_state(dir: &Path) -> (Option<String>, Option<bool>) {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let Some(commit) = git(&["rev-parse", "HEAD"]).map(|s| s.trim().to_string()) else {
        return (None, None);
    };
    let dirty = git(&["status", "--porcelain"]).map(|s| !s.trim().is_empty());
    (Some(commit), dirty)
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

    #[test]
    fn git_state_outside_a_repository_is_none() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(git_state(d.path()), (None, None));
    }
}
